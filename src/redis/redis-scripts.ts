/**
 * The Lua scripts of {@link RedisRunStore}: each mutating method is one of them, so it runs
 * atomically on the server in one round trip.
 *
 * Keys under the prefix `P` (a run id may contain `:`; each kind of key has its own namespace):
 * - `P run:<runId>`: hash of the run's fields (numbers as decimal strings, `error` as JSON), plus
 *   `_order`, its member in the listing indexes;
 * - `P steps:<runId>`: list of the step records' JSON, in the order they were recorded;
 * - `P stepindex:<runId>`: hash of `<generation>:<stepId>` → the record's index in `steps`
 *   (from 0), for first-writer-wins (HSETNX) and for reading one record (`getStepRecord`);
 * - `P runs`, `P runs:pipeline:<pipeline>`, `P runs:status:<status>`, `P runs:ps:<status>:<pipeline>`:
 *   sorted sets with score 0 whose members `<createdAt, 16 digits>:<runId>` sort by lexicographic
 *   order as `listRuns` pages them (read newest first with ZREVRANGEBYLEX).
 *
 * The index keys are built inside the scripts from the prefix: on a Redis Cluster, give a prefix
 * with a hash tag (`{fastroai}:`) so that every key lives in one slot.
 */

/** KEYS: run. ARGV: prefix, index member, pipeline, status, field/value pairs. Answers 1, or 0 when the run exists. */
export const CREATE_RUN_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local p, m = ARGV[1], ARGV[2]
redis.call('HSET', KEYS[1], '_order', m)
redis.call('ZADD', p .. 'runs', 0, m)
redis.call('ZADD', p .. 'runs:pipeline:' .. ARGV[3], 0, m)
redis.call('ZADD', p .. 'runs:status:' .. ARGV[4], 0, m)
redis.call('ZADD', p .. 'runs:ps:' .. ARGV[4] .. ':' .. ARGV[3], 0, m)
return 1
`;

/**
 * KEYS: run, steps. ARGV: owner, now, leaseUntil. Increments the epoch and takes the lease unless
 * another owner's lease is live. Answers `{'claimed', run hash, step JSONs}`,
 * `{'locked', owner, leaseUntil}` or `{'missing'}`.
 */
export const CLAIM_RUN_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'leaseUntil', 'epoch')
if not cur[3] then return {'missing'} end
if cur[1] ~= ARGV[1] and tonumber(cur[2]) > tonumber(ARGV[2]) then return {'locked', cur[1], cur[2]} end
redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'leaseUntil', ARGV[3])
return {'claimed', redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}
`;

/** KEYS: run. ARGV: owner, epoch, leaseUntil. Answers 1 when renewed, 0 when `owner`/`epoch` no longer hold the run. */
export const RENEW_LEASE_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if cur[1] ~= ARGV[1] or tonumber(cur[2]) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[3])
return 1
`;

/**
 * KEYS: run. ARGV: reason. Keeps a cancellation for the run's current epoch, in the run's hash
 * (`cancelEpoch`, `cancelReason`: not fields of a RunRecord), when the run is running. Answers
 * `requested`, `not-running` or `missing`.
 */
export const REQUEST_CANCEL_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'status', 'epoch')
if not cur[2] then return 'missing' end
if cur[1] ~= 'running' then return 'not-running' end
redis.call('HSET', KEYS[1], 'cancelEpoch', cur[2], 'cancelReason', ARGV[1])
return 'requested'
`;

/** The largest record JSON, in bytes, that {@link RECORD_STEPS_SCRIPT} pushes; a larger one is read by whoever needs it. */
export const PUSHED_RECORD_MAX_BYTES = 16_384;

/** The most record JSON, in bytes, that one push of {@link RECORD_STEPS_SCRIPT} carries (every watcher receives every push). */
export const PUSH_MAX_BYTES = 65_536;

/**
 * KEYS: run, steps, stepindex. ARGV: epoch, the push channel, the run id as a JSON string, then
 * `<generation>:<stepId>`/JSON pairs. Answers -1 when the run does not exist, 0 when the epoch
 * is stale (nothing written), else one 2 (recorded and pushed), 1 (recorded) or 0 (duplicate)
 * per record. A recorded one is appended to `steps` and its index there kept in `stepindex`.
 * The recorded ones are then published on the channel, as `{"runId":…,"records":[…]}` (see
 * RecordPusher), as far as they fit ({@link PUSHED_RECORD_MAX_BYTES} each, {@link PUSH_MAX_BYTES}
 * in all): those are answered 2.
 */
export const RECORD_STEPS_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return -1 end
if tonumber(epoch) ~= tonumber(ARGV[1]) then return 0 end
local count = redis.call('LLEN', KEYS[2])
local outcomes = {}
local pushed, pushedBytes = {}, 0
for i = 4, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], count) == 1 then
    local json = ARGV[i + 1]
    redis.call('RPUSH', KEYS[2], json)
    count = count + 1
    if #json <= ${PUSHED_RECORD_MAX_BYTES} and pushedBytes + #json <= ${PUSH_MAX_BYTES} then
      pushed[#pushed + 1] = json
      pushedBytes = pushedBytes + #json
      outcomes[#outcomes + 1] = 2
    else
      outcomes[#outcomes + 1] = 1
    end
  else
    outcomes[#outcomes + 1] = 0
  end
end
if #pushed > 0 then redis.call('PUBLISH', ARGV[2], '{"runId":' .. ARGV[3] .. ',"records":[' .. table.concat(pushed, ',') .. ']}') end
return outcomes
`;

/**
 * KEYS: steps, stepindex. ARGV: `<generation>:<stepId>`. Answers the record's JSON, or nil when
 * there is none (nor the run): one hash read and one list read, whatever the run's size.
 */
export const GET_STEP_RECORD_SCRIPT = `
local index = redis.call('HGET', KEYS[2], ARGV[1])
if not index then return false end
return redis.call('LINDEX', KEYS[1], index)
`;

/**
 * KEYS: steps, stepindex. ARGV: `<generation>:<stepId>` of each record wanted. Answers each
 * record's JSON (false where there is none), in the order asked: one HMGET, then one LINDEX a record found.
 */
export const GET_STEP_RECORDS_SCRIPT = `
local indexes = redis.call('HMGET', KEYS[2], unpack(ARGV))
local records = {}
for i, index in ipairs(indexes) do
  if index then records[i] = redis.call('LINDEX', KEYS[1], index) else records[i] = false end
end
return records
`;

/**
 * KEYS: run. ARGV: prefix, epoch, status, updatedAt, the number n of fields to clear, n field
 * names, then field/value pairs to set. Moves the run between the listing indexes when its
 * status or pipeline changes. Answers 1, 0 when the epoch is stale (nothing changed), -1 when
 * the run does not exist.
 */
export const SET_RUN_STATUS_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'epoch', 'status', 'pipeline', '_order')
if not cur[1] then return -1 end
if tonumber(cur[1]) ~= tonumber(ARGV[2]) then return 0 end
local n = tonumber(ARGV[5])
for i = 6, 5 + n do redis.call('HDEL', KEYS[1], ARGV[i]) end
local pipeline, status = cur[3], ARGV[3]
for i = 6 + n, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'pipeline' then pipeline = ARGV[i + 1] end
end
redis.call('HSET', KEYS[1], 'status', status, 'updatedAt', ARGV[4])
if pipeline ~= cur[3] or status ~= cur[2] then
  local p, m = ARGV[1], cur[4]
  redis.call('ZREM', p .. 'runs:pipeline:' .. cur[3], m)
  redis.call('ZREM', p .. 'runs:status:' .. cur[2], m)
  redis.call('ZREM', p .. 'runs:ps:' .. cur[2] .. ':' .. cur[3], m)
  redis.call('ZADD', p .. 'runs:pipeline:' .. pipeline, 0, m)
  redis.call('ZADD', p .. 'runs:status:' .. status, 0, m)
  redis.call('ZADD', p .. 'runs:ps:' .. status .. ':' .. pipeline, 0, m)
end
return 1
`;

/**
 * KEYS: run, the charge's key. ARGV: microcents, how long the charge's key is kept (ms).
 * Answers the total after adding, or nil when the run does not exist. A charge is added once:
 * its key (one per `addRunCost` call) marks it applied, so a retry after a lost answer, or a
 * command ioredis sends again after a reconnect, answers the total without adding again.
 */
export const ADD_RUN_COST_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  return redis.call('HINCRBY', KEYS[1], 'costMicrocents', ARGV[1])
end
return tonumber(redis.call('HGET', KEYS[1], 'costMicrocents'))
`;

/** KEYS: run. Answers the run's spent total (`addRunCost` of 0), or nil when the run does not exist. */
export const READ_RUN_COST_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return tonumber(redis.call('HGET', KEYS[1], 'costMicrocents'))
`;

/** KEYS: run, steps. Answers `{run hash, step JSONs}` read at one instant (an empty hash when the run does not exist). */
export const GET_RUN_SCRIPT = `
return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}
`;

/** ARGV: prefix, index key, upper bound (`+` or `(<member>`), count. Answers the runs' hashes, newest first. */
export const LIST_RUNS_SCRIPT = `
local members = redis.call('ZREVRANGEBYLEX', ARGV[2], ARGV[3], '-', 'LIMIT', 0, tonumber(ARGV[4]))
local runs = {}
for i, m in ipairs(members) do runs[i] = redis.call('HGETALL', ARGV[1] .. 'run:' .. string.sub(m, 18)) end
return runs
`;
