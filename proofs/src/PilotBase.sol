// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PilotRupee} from "contracts/PilotRupee.sol";
import {PilotRupeeProxy} from "contracts/proxy/PilotRupeeProxy.sol";

/// @dev The hevm cheatcodes halmos implements (the subset these proofs use), at hevm's address.
interface Hevm {
    function prank(address sender) external;
    function warp(uint256 timestamp) external;
    function store(address target, bytes32 slot, bytes32 value) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
    function assume(bool condition) external pure;
}

/// @dev halmos's own cheatcodes (symbolic values), at halmos's address.
interface Svm {
    function createUint(uint256 bits, string calldata name) external returns (uint256);
    function createUint256(string calldata name) external returns (uint256);
    function createAddress(string calldata name) external returns (address);
    function createBool(string calldata name) external returns (bool);
    function createBytes32(string calldata name) external returns (bytes32);
    function createCalldata(string calldata contractName) external returns (bytes memory);
}

/// @title PilotBase: the token behind its ERC-1967 proxy, one holder per role, symbolic state.
/// @notice Every proof starts from the state {setUp} leaves (one concrete path, as halmos requires) and
/// then writes SYMBOLIC state into the token's ERC-7201 storage through the packed words the token
/// itself reads: each account in play gets an arbitrary balance, frozen amount, frozen flag, exemption
/// flag and tier; the global word an arbitrary cap, pause flag and limit/allowlist switches; the total
/// supply is the sum of the balances in play (every other account holds nothing), which is the token's
/// supply invariant. So each check covers every combination of those values at once.
abstract contract PilotBase {
    Hevm internal constant vm = Hevm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    Svm internal constant svm = Svm(0xF3993A62377BCd56AE39D773740A5390411E8BC9);

    // ERC-7201 root of PilotRupeeStorage and the struct members the proofs read or write.
    uint256 internal constant ROOT = 0x9fdfe9d5f4ed7ee0fde9aa4f4454b07cdbf4e77d7f78d69b61af7d30576e3500;
    uint256 internal constant GLOBAL_SLOT = ROOT;
    uint256 internal constant RESERVES_SLOT = ROOT + 1;
    uint256 internal constant ACCOUNTS_SLOT = ROOT + 4;
    uint256 internal constant ALLOWANCES_SLOT = ROOT + 5;
    uint256 internal constant MINTERS_SLOT = ROOT + 6;
    uint256 internal constant TIER_LIMITS_SLOT = ROOT + 7;
    uint256 internal constant OUTFLOWS_SLOT = ROOT + 8;

    // OpenZeppelin AccessControlUpgradeable's ERC-7201 root (its `_roles` mapping).
    uint256 internal constant ACCESS_CONTROL_ROOT = 0x02dd7bc7dec4dceedda775e58dd541e08a116c6c53815c0bd028192f7b626800;

    uint256 internal constant MASK96 = (1 << 96) - 1;
    uint256 internal constant MASK128 = (1 << 128) - 1;
    uint256 internal constant FROZEN_FLAG = 1 << 192;
    uint256 internal constant EXEMPT_FLAG = 1 << 193;
    uint256 internal constant PAUSED_FLAG = 1 << 192;
    uint256 internal constant LIMITS_FLAG = 1 << 193;
    uint256 internal constant ALLOWLIST_FLAG = 1 << 194;
    uint256 internal constant MINTER_ENABLED = 1 << 255;

    uint256 internal constant NOW = 1_800_000_000;

    bytes32 internal constant SEIZER_ROLE = keccak256("SEIZER_ROLE");

    bytes4 internal constant PERMIT_VRS = bytes4(keccak256("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"));
    bytes4 internal constant ERC2612_EXPIRED = bytes4(keccak256("ERC2612ExpiredSignature(uint256)"));
    bytes4 internal constant NOT_BURNER = bytes4(keccak256("NotBurner(address)"));
    bytes4 internal constant SEIZE = bytes4(keccak256("seize(address,address,uint256,bytes32)"));
    bytes4 internal constant MINT = bytes4(keccak256("mint(address,uint256,bytes32)"));
    bytes4 internal constant TRANSFER = bytes4(keccak256("transfer(address,uint256)"));
    bytes4 internal constant BURN = bytes4(keccak256("burn(uint256,bytes32)"));
    bytes4 internal constant MULTICALL = bytes4(keccak256("multicall(bytes[])"));
    bytes4 internal constant UPGRADE = bytes4(keccak256("upgradeToAndCall(address,bytes)"));

    PilotRupee internal token;

    // One holder per role (concrete, so each check can name them).
    address internal constant ADMIN_ADDR = address(0xAD);
    address internal constant MINTER = address(0x1001);
    address internal constant FREEZER = address(0x1002);
    address internal constant SEIZER = address(0x1003);
    address internal constant PAUSER = address(0x1004);
    address internal constant UNPAUSER = address(0x1005);
    address internal constant ATTESTOR = address(0x1006);
    address internal constant BURNER = address(0x1007);
    address internal constant KYC = address(0x1008);
    address internal constant RESCUER = address(0x1009);
    address internal constant UPGRADER = address(0x100A);
    address internal constant MINTER_ADMIN = address(0x100B);

    // Accounts in play (no role).
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA401);

    function setUp() public virtual {
        vm.warp(NOW);
        PilotRupee impl = new PilotRupee();
        bytes memory init = abi.encodeCall(PilotRupee.initialize, ("Pilot Rupee", "PKRP", 2, address(this), 0));
        token = PilotRupee(address(new PilotRupeeProxy(address(impl), init)));
        token.grantRole(token.MINTER_ADMIN_ROLE(), MINTER_ADMIN);
        token.grantRole(token.PAUSER_ROLE(), PAUSER);
        token.grantRole(token.UNPAUSER_ROLE(), UNPAUSER);
        token.grantRole(token.FREEZER_ROLE(), FREEZER);
        token.grantRole(token.SEIZER_ROLE(), SEIZER);
        token.grantRole(token.ATTESTOR_ROLE(), ATTESTOR);
        token.grantRole(token.BURNER_ROLE(), BURNER);
        token.grantRole(token.RESCUER_ROLE(), RESCUER);
        token.grantRole(token.UPGRADER_ROLE(), UPGRADER);
        token.grantRole(token.KYC_ROLE(), KYC);
        vm.prank(MINTER_ADMIN);
        token.configureMinter(MINTER, 1_000_000_000, bytes32("setup"));
    }

    // ------------------------------------------------------------------ symbolic state

    function _accountSlot(address a) internal pure returns (bytes32) {
        return keccak256(abi.encode(a, ACCOUNTS_SLOT));
    }

    function _allowanceSlot(address owner, address spender) internal pure returns (bytes32) {
        return keccak256(abi.encode(spender, keccak256(abi.encode(owner, ALLOWANCES_SLOT))));
    }

    function _word(bytes32 slot) internal view returns (uint256) {
        return uint256(vm.load(address(token), slot));
    }

    function _put(bytes32 slot, uint256 value) internal {
        vm.store(address(token), slot, bytes32(value));
    }

    /// @dev An arbitrary account word for `a` (every field any value, unused bits zero); returns the balance.
    function _symbolicAccount(address a, string memory name) internal returns (uint256 balance) {
        balance = svm.createUint(96, string.concat(name, ".balance"));
        uint256 frozenAmount = svm.createUint(96, string.concat(name, ".frozenAmount"));
        uint256 flags = svm.createUint(2, string.concat(name, ".flags")); // frozen flag, exempt flag
        uint256 tier = svm.createUint(8, string.concat(name, ".tier"));
        _put(_accountSlot(a), balance | (frozenAmount << 96) | (flags << 192) | (tier << 200));
    }

    /// @dev Accounts `a`, `b`, `c` get arbitrary words; the supply is their sum; cap, pause and the two
    /// switches are arbitrary. Returns nothing: read the state back through the token's getters.
    function _symbolicState3(address a, address b, address c) internal {
        uint256 sum = _symbolicAccount(a, "a") + _symbolicAccount(b, "b") + _symbolicAccount(c, "c");
        vm.assume(sum <= MASK96);
        _symbolicGlobal(sum);
    }

    function _symbolicState2(address a, address b) internal {
        uint256 sum = _symbolicAccount(a, "a") + _symbolicAccount(b, "b");
        vm.assume(sum <= MASK96);
        _symbolicGlobal(sum);
    }

    /// @dev The lean state for rules over ANY call (where every symbolic bit multiplies the paths of
    /// every external function): `a` and `b` hold arbitrary balances (the supply is their sum) with no
    /// freeze, tier or exemption; the cap is arbitrary; pause and both switches are given by `globalFlags`.
    function _leanState(address a, address b, uint256 accountFlagsA, uint256 globalFlags) internal {
        uint256 balA = svm.createUint(96, "a.balance");
        uint256 balB = svm.createUint(96, "b.balance");
        uint256 frozenA = svm.createUint(96, "a.frozenAmount");
        vm.assume(balA + balB <= MASK96);
        _put(_accountSlot(a), balA | (frozenA << 96) | accountFlagsA);
        _put(_accountSlot(b), balB);
        uint256 cap = svm.createUint(96, "cap");
        _put(bytes32(GLOBAL_SLOT), (balA + balB) | (cap << 96) | globalFlags);
    }

    function _symbolicGlobal(uint256 supply) internal {
        uint256 cap = svm.createUint(96, "cap");
        uint256 flags = svm.createUint(3, "globalFlags"); // paused, limits on, allowlist on
        _put(bytes32(GLOBAL_SLOT), supply | (cap << 96) | (flags << 192));
    }

    /// @dev Arbitrary reserves word (amount, asOf, max age) and block time.
    function _symbolicReserves() internal {
        uint256 amount = svm.createUint(128, "reserves.amount");
        uint256 asOf = svm.createUint(64, "reserves.asOf");
        uint256 maxAge = svm.createUint(64, "reserves.maxAge");
        _put(bytes32(RESERVES_SLOT), amount | (asOf << 128) | (maxAge << 192));
    }

    /// @dev Arbitrary allowance of `owner` to `spender`.
    function _symbolicAllowance(address owner, address spender) internal returns (uint256 value) {
        value = svm.createUint256("allowance");
        _put(_allowanceSlot(owner, spender), value);
    }

    // ------------------------------------------------------------------ arbitrary calls

    /// @dev One call to the token with arbitrary calldata (any external function, any arguments) from
    /// `sender`; returns whether it succeeded and its selector. Not `multicall` (see {_anyMulticall}),
    /// and not `upgradeToAndCall` when `noUpgrade` (an upgrade replaces the code these rules are about;
    /// who may upgrade is its own rule).
    function _anyCall(address sender, bool noUpgrade) internal returns (bool ok, bytes4 selector) {
        return _anyCall(sender, noUpgrade, 0);
    }

    /// @dev {_anyCall} with the selector pinned to `only` unless it is zero: for twins, which need one
    /// counterexample and name the function that gives it, so they do not search every other function
    /// first. The calldata is still halmos's arbitrary calldata (any arguments), in the same state.
    function _anyCall(address sender, bool noUpgrade, bytes4 only) internal returns (bool ok, bytes4 selector) {
        bytes memory data = svm.createCalldata("PilotRupee");
        selector = bytes4(data);
        if (only != 0) vm.assume(selector == only);
        vm.assume(selector != MULTICALL);
        if (noUpgrade) vm.assume(selector != UPGRADE);
        vm.prank(sender);
        (ok,) = address(token).call(data);
    }

    /// @dev `multicall` with ONE arbitrary inner call (two symbolic inner calls do not finish in halmos).
    /// `only` pins the inner selector unless it is zero (for twins, as in {_anyCall}).
    function _anyMulticall(address sender, bytes4 only) internal returns (bool ok, bytes4 inner) {
        bytes[] memory calls = new bytes[](1);
        calls[0] = svm.createCalldata("PilotRupee");
        inner = bytes4(calls[0]);
        if (only != 0) vm.assume(inner == only);
        vm.assume(inner != MULTICALL && inner != UPGRADE);
        vm.prank(sender);
        (ok,) = address(token).call(abi.encodeCall(token.multicall, (calls)));
    }

    /// @dev The EIP-3009 entry points: signed by the holder, submitted by anyone.
    function _isAuthorization(bytes4 sel) internal pure returns (bool) {
        return _or(
            _or(
                sel == bytes4(keccak256("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)")),
                sel == bytes4(keccak256("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"))
            ),
            _or(
                sel == bytes4(keccak256("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)")),
                sel == bytes4(keccak256("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"))
            )
        );
    }

    // ------------------------------------------------------------------ branch-free logic
    // Solidity's `&&`, `||` and `?:` compile to jumps, and every jump on a symbolic condition asks the
    // solver and may split the path; after an arbitrary call that is paid on every one of hundreds of
    // paths. These evaluate both sides (EVM AND/OR on clean booleans), so a rule's claim after the call
    // is one condition and one `assert`.

    function _and(bool a, bool b) internal pure returns (bool r) {
        assembly ("memory-safe") {
            r := and(a, b)
        }
    }

    function _or(bool a, bool b) internal pure returns (bool r) {
        assembly ("memory-safe") {
            r := or(a, b)
        }
    }

    /// @dev `a` implies `b`.
    function _implies(bool a, bool b) internal pure returns (bool) {
        return _or(!a, b);
    }

    // ------------------------------------------------------------------ reading

    function _bal(address a) internal view returns (uint256) {
        return token.balanceOf(a);
    }

    function _supply() internal view returns (uint256) {
        return token.totalSupply();
    }

    // The same values read straight from the token's storage words (a cheatcode, not a call through the
    // proxy): the rules over any call read the state after the call this way, on every path. Each
    // mirrors the token's getter of the same name (the packing is documented in PilotRupee.sol).

    function _rawBalance(address a) internal view returns (uint256) {
        return _word(_accountSlot(a)) & MASK96;
    }

    function _rawFrozenAmount(address a) internal view returns (uint256) {
        return (_word(_accountSlot(a)) >> 96) & MASK96;
    }

    function _rawSupply() internal view returns (uint256) {
        return _word(bytes32(GLOBAL_SLOT)) & MASK96;
    }

    function _rawCap() internal view returns (uint256) {
        return (_word(bytes32(GLOBAL_SLOT)) >> 96) & MASK96;
    }

    function _rawAllowance(address owner, address spender) internal view returns (uint256) {
        return _word(_allowanceSlot(owner, spender));
    }

    /// @dev The minter word: [0,128) allowance, bit 255 enabled.
    function _rawMinter(address minter) internal view returns (uint256) {
        return _word(keccak256(abi.encode(minter, MINTERS_SLOT)));
    }

    /// @dev OpenZeppelin AccessControl's ERC-7201 storage: `_roles[role].hasRole[account]`.
    function _rawHasRole(bytes32 role, address account) internal view returns (bool) {
        return _word(keccak256(abi.encode(account, keccak256(abi.encode(role, ACCESS_CONTROL_ROOT))))) != 0;
    }

    /// @dev The selector of a revert reason (zero when there is none).
    function _sel(bytes memory ret) internal pure returns (bytes4 s) {
        if (ret.length >= 4) s = bytes4(ret);
    }
}
