// LuaShim: the only code in meow that calls Lua API functions able to raise (lua_error, memory errors).
//
// Why it exists: Debian's liblua5.4 is built as C, so every Lua error unwinds with longjmp. A longjmp
// across a Swift frame is undefined behaviour. The rule (DESIGN.md §3): Swift calls only the functions
// declared here. Each either cannot raise, or runs its work inside a protected call and returns a status.
// Swift functions that Lua calls (document look-ups, print, module reads) are reached through C
// trampolines: Swift fills a result struct and returns a status; the C side raises after Swift returned.
#ifndef MEOW_LUASHIM_H
#define MEOW_LUASHIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct lua_State lua_State;

// MARK: - Status and budget codes

enum {
    MEOW_OK = 0,
    MEOW_ERR_RUNTIME = 2,  // LUA_ERRRUN
    MEOW_ERR_SYNTAX = 3,   // LUA_ERRSYNTAX
    MEOW_ERR_MEMORY = 4,   // LUA_ERRMEM
    MEOW_ERR_HANDLER = 5,  // LUA_ERRERR
};

/// Why an evaluation was stopped by the host (0 when it was not).
enum {
    MEOW_TRIP_NONE = 0,
    MEOW_TRIP_INSTRUCTIONS = 1,
    MEOW_TRIP_MEMORY = 2,
    MEOW_TRIP_TIME = 3,
    MEOW_TRIP_PATTERN = 4,
};

/// Limits of one evaluation. Zero means "no limit" for that budget.
typedef struct {
    uint64_t instructions;    // Lua VM instructions (count hook)
    size_t memory;            // bytes the evaluation may add to the state's heap
    uint64_t wall_ns;         // wall-clock nanoseconds
    uint64_t pattern_steps;   // steps of the pattern matcher (string.find/match/gmatch/gsub)
    size_t max_string;        // largest string string.rep may build
} meow_budget;

/// What an evaluation used, and where it was stopped.
typedef struct {
    uint64_t instructions;
    size_t memory_peak;       // peak bytes above the evaluation's starting heap
    uint64_t elapsed_ns;
    uint64_t pattern_steps;
    int trip;                 // MEOW_TRIP_*
} meow_usage;

// MARK: - Host callbacks (implemented in Swift, called from C trampolines; must never raise)

/// Value kinds exchanged with the document callbacks.
enum {
    MEOW_V_NIL = 0,
    MEOW_V_FALSE = 1,
    MEOW_V_TRUE = 2,
    MEOW_V_INT = 3,
    MEOW_V_NUM = 4,
    MEOW_V_STR = 5,
    MEOW_V_OBJECT = 6,  // a nested document node: `node` is its id
    MEOW_V_ARRAY = 7,   // a nested document node: `node` is its id
};

/// One value a document callback hands back. Strings point at `meow_scratch` memory or at storage the
/// host keeps alive for the whole evaluation cycle.
typedef struct {
    int type;
    int64_t i;
    double n;
    const char *s;
    size_t len;
    uint32_t node;
} meow_value;

typedef struct {
    void *ctx;
    /// Field `key` (string, or integer `ikey` when `key` is NULL) of `node`. Returns 0, or nonzero with an
    /// error message written into `out` as a string value.
    int (*lookup)(void *ctx, uint32_t node, const char *key, size_t keylen, int64_t ikey, meow_value *out);
    /// `#node`: the array length, or the number of keys of an object.
    int64_t (*length)(void *ctx, uint32_t node);
    /// The `position`-th (0-based) entry of `node`: key into `key` (string, or an integer for arrays), value
    /// into `value`. Returns 1 when an entry exists, 0 at the end.
    int (*entry)(void *ctx, uint32_t node, int64_t position, meow_value *key, meow_value *value);
    /// Text for `tostring(node)`.
    int (*describe)(void *ctx, uint32_t node, meow_value *out);
} meow_doc_callbacks;

typedef struct {
    void *ctx;
    /// `print(...)` from a rule: one line of text.
    void (*print)(void *ctx, const char *text, size_t len);
    /// `require(name)`: the module's source text and chunk name, or an error message in `source`.
    /// Returns 0 when found. Strings must stay valid until the next call.
    int (*module)(void *ctx, const char *name, size_t namelen, meow_value *source, meow_value *chunkname);
    /// Entity look-ups offered to rules as `state.get(id)` / `state.list(kind)`: fills `ids` (up to `cap`)
    /// with document node ids of matching root entities and returns how many matched in total.
    int64_t (*find)(void *ctx, int mode, const char *arg, size_t arglen, uint32_t *ids, int64_t cap);
} meow_host_callbacks;

// MARK: - States

/// A new Lua state with meow's allocator (hard cap `max_memory` bytes for the whole state, 0 = none) and
/// budget hook, or NULL. Only the safe standard libraries are opened; nothing is reachable yet.
lua_State *meow_state_new(size_t max_memory);
/// Closes the state. No finalizer written by a rule can exist (setmetatable refuses __gc), so this runs
/// no rule code.
void meow_state_close(lua_State *L);
void meow_set_doc_callbacks(lua_State *L, const meow_doc_callbacks *callbacks);
void meow_set_host_callbacks(lua_State *L, const meow_host_callbacks *callbacks);
/// Bytes the state's heap currently holds.
size_t meow_memory_in_use(lua_State *L);
/// A full garbage collection, in protected mode.
int meow_collect(lua_State *L);
/// Grows (if needed) and returns a host-owned scratch buffer used to hand strings to Lua.
char *meow_scratch(lua_State *L, size_t size);

// MARK: - Budgets

/// Starts an evaluation: resets the counters and arms the limits. `now` is the evaluation time in
/// seconds since the epoch that rules see through os.time/os.date/os.clock and `now()`.
void meow_budget_begin(lua_State *L, const meow_budget *budget, double now);
/// Ends the evaluation: disarms the limits and returns what it used.
meow_usage meow_budget_end(lua_State *L);
/// Sets the evaluation clock without arming budgets (for loading files).
void meow_set_clock(lua_State *L, double now);

// MARK: - Errors

/// The message of the last failed call (valid until the next call), and where it happened: the innermost
/// Lua function frame of a file chunk (`source` without its leading '@', `line` > 0), when known.
const char *meow_last_error(lua_State *L, size_t *len);
const char *meow_last_error_source(lua_State *L);
int meow_last_error_line(lua_State *L);

// MARK: - Registry references (protected; return a reference > 0, or <= 0 on failure)

void meow_unref(lua_State *L, int ref);

// MARK: - Loading

/// Runs the sandbox bootstrap chunk `source` (text only) with a table of privileged functions; it must
/// return the environment factory, which is kept in the registry. Clears the real global table after.
int meow_sandbox_install(lua_State *L, const char *source, size_t len, const char *chunkname);
/// A new environment table from the factory: `kind` is "rule" or "test". Returns its registry ref.
int meow_env_new(lua_State *L, const char *kind, const char *filename, int *ref_out);
/// Compiles `source` as a text chunk named `chunkname` (e.g. "@rules/x.lua") with `_ENV` = env_ref, and
/// stores the function as a registry ref.
int meow_load(lua_State *L, const char *source, size_t len, const char *chunkname, int env_ref, int *ref_out);
/// Reads global `name` of the environment `env_ref` (raw) and stores it as a registry ref (0 if nil).
int meow_env_get(lua_State *L, int env_ref, const char *name, int *ref_out);

// MARK: - Calls

/// One argument of `meow_call`.
typedef struct {
    int kind;     // MEOW_ARG_*
    int ref;      // for REF
    uint32_t node;  // for ENTITY: root document node
    int64_t i;    // for INT
    double n;     // for NUM
    const uint8_t *pack;  // for PACK: a packed value (see below)
    size_t packlen;
} meow_arg;

enum { MEOW_ARG_NIL = 0, MEOW_ARG_REF = 1, MEOW_ARG_ENTITY = 2, MEOW_ARG_INT = 3, MEOW_ARG_NUM = 4, MEOW_ARG_PACK = 5 };

/// Calls the function at `fn_ref` with `args`, in protected mode, and packs its first result into `out`
/// (raw access only: metamethods of returned values are never called). Returns MEOW_OK or an error status;
/// on error `meow_last_error*` tell what and where.
int meow_call(lua_State *L, int fn_ref, const meow_arg *args, int nargs, uint8_t **out, size_t *outlen);
/// Frees a buffer returned by meow_call.
void meow_free(void *p);

// MARK: - Documents (read-only entity proxies)

/// Starts a new document generation: proxies from earlier generations refuse access from now on.
void meow_doc_generation(lua_State *L, uint32_t generation);

// MARK: - Packed values
//
// A small binary format for values crossing the boundary. Tags: 'n' nil, 't' true, 'f' false,
// 'i' int64 LE, 'd' float64 LE, 's' u32 length + bytes, 'a' u32 count + values, 'o' u32 count + (u32 key
// length + key bytes + value) pairs, 'e' empty table, 'r' u32 document node (an entity proxy),
// 'x' u32 length + type name (a function, thread or foreign userdata).

#endif
