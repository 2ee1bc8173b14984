---@meta
-- LuaLS definitions for etlhost's `shared` module: a cache shared by all scripts of a run.

---@class shared.Module
local shared = {}

---Returns the value cached under key, running loader once per key across all scripts of the run.
---Scripts asking while a loader runs wait for its value. A loader that fails caches nothing (the
---next caller loads again):
--- - stopped with its own script (its deadline, Ctrl+C, its memory limit): no waiter fails; one of
---   them runs its own loader instead and the others wait for that one;
--- - any other error it raises (a bad query) reaches every waiter, as
---   `shared.get_or_load("k"): the loader run by script "x" failed: <its error>`
---   ("... by another light thread of this script" when it was one of the caller's threads).
---@param key string
---@param loader fun(): any
---@return any
function shared.get_or_load(key, loader) end

---Returns the value cached under key, or nil (does not wait for a loader in progress).
---@param key string
---@return any
function shared.get(key) end

---Caches a copy of value under key for every script of the run.
---@param key string
---@param value any
function shared.set(key, value) end

return shared
