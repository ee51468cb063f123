import { systemClock, type Clock } from '../clock/clock';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { RunExistsError } from '../errors/run-exists-error';
import { RunLockedError } from '../errors/run-locked-error';
import type { PipelineDefinition } from '../pipeline/pipeline-definition';
import { decodeValue } from '../store/decode-value';
import { encodeValue } from '../store/encode-value';
import type { RunStore } from '../store/run-store';
import { callStore } from './call-store';
import { DurableRun } from './durable-run';
import { describeFingerprintChange, fingerprintOf } from './fingerprint-of';
import { DEFAULT_LEASE_MS } from './lease-keeper';
import { newOwnerId } from './owner-id';
import { claimAsAbandonedOwner } from './abandoned-leases';
import { planResume } from './plan-resume';
import { toInputRecord } from '../pipeline/to-input-record';

/** How a run holds its store. */
export interface DurableOptions {
  store: RunStore;
  /** How long the run's lease lasts unless renewed (ms). @default 30 s */
  leaseMs?: number;
  /** Where the run's times and lease renewals come from. @default the system clock */
  clock?: Clock;
}

/**
 * Records a new run in the store (status `running`, leased to this process at epoch 1) and
 * returns its durable side.
 *
 * @throws OutputNotStorableError when the input cannot be encoded
 * @throws RunLockedError when `runId` is in the store already, running under a live lease
 * @throws RunExistsError when `runId` is in the store already otherwise
 */
export async function createDurableRun(
  definition: PipelineDefinition,
  input: Record<string, unknown>,
  runId: string,
  options: DurableOptions,
): Promise<DurableRun> {
  const { store } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const encodedInput = encodeValue(input);
  const owner = newOwnerId();
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  await callStore(store, runId, () =>
    store.createRun({
      runId,
      pipeline: definition.name,
      fingerprint: fingerprintOf(definition.graph, definition.outputStep),
      input: encodedInput,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      costMicrocents: 0,
      owner,
      epoch: 1,
      leaseUntil: now + leaseMs,
    }),
    clock,
  ).catch((error: unknown) => refuseExistingRun(store, runId, owner, clock, error));
  return new DurableRun({ store, runId, owner, epoch: 1, leaseMs, firstStartedAt: now, spentMicrocents: 0, size: definition.graph.ids.length, clock });
}

/**
 * Why a new run with this id is refused: RunLockedError while the run that has it runs (its
 * lease is live: a second `execute` of the same runId, API.md §12), else the store's error
 * (RunExistsError for a run that ended or crashed: resume it). Unless the run is this one: a
 * `createRun` whose answer was lost, tried again (see callStore), finds the run it created
 * (its owner id is new with each run); then the run goes on.
 */
async function refuseExistingRun(store: RunStore, runId: string, owner: string, clock: Clock, error: unknown): Promise<void> {
  if (!RunExistsError.isInstance(error)) throw error;
  const existing = await callStore(store, runId, () => store.getRun(runId), clock).catch(() => undefined);
  const run = existing?.run;
  if (run !== undefined && run.owner === owner && run.epoch === 1 && run.status === 'running' && existing!.steps.length === 0) return;
  if (run !== undefined && run.status === 'running' && run.leaseUntil > clock.now()) throw new RunLockedError(runId, run.owner, run.leaseUntil);
  throw error;
}

/**
 * Claims a recorded run for a resume: takes its lease (a new epoch), checks that it was
 * recorded by the same graph, plans what to restore and what to run (`rerun` adds steps and
 * their dependents), merges `input` over the stored input and writes it back, and sets the
 * run `running` again.
 *
 * @throws RunNotFoundError, RunLockedError from the store
 * @throws PipelineValidationError when the stored graph differs, naming the changes
 */
export async function claimDurableRun(
  definition: PipelineDefinition,
  runId: string,
  options: DurableOptions & { input?: unknown; rerun?: readonly string[] },
): Promise<{ durable: DurableRun; input: Record<string, unknown> }> {
  const { store } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const clock = options.clock ?? systemClock;
  // A run of this process that ended with its store failing still holds the lease: claimed as its owner.
  const { owner, claimed, unrestored } = await claimAsAbandonedOwner(store, runId, newOwnerId(), (as) => callStore(store, runId, () => store.claimRun(runId, as, leaseMs), clock));
  const { epoch } = claimed;
  // A resume of this process that started nothing and could not put the run back (its store
  // failed) left it `running` with its claim's changes: the run is what it was before that claim,
  // unless another claim came between (another process's, once the lease lapsed).
  const putBack = unrestored !== undefined && claimed.run.status === 'running' && epoch === unrestored.epoch + 1;
  const run = putBack ? { ...claimed.run, ...unrestored.before } : claimed.run;
  const release = () => callStore(store, runId, () => store.setRunStatus(runId, epoch, run.status, { leaseUntil: 0 }), clock).catch(() => undefined);
  try {
    const fingerprint = fingerprintOf(definition.graph, definition.outputStep);
    // Another string may still be the same graph: its steps declared in another order.
    const changes = run.fingerprint === fingerprint ? [] : describeFingerprintChange(run.fingerprint, fingerprint);
    if (changes.length > 0) {
      throw new PipelineValidationError(
        `Run '${runId}' was recorded by another version of pipeline '${run.pipeline}' and cannot be resumed by '${definition.name}': ${changes.join('; ')}`,
      );
    }
    if (options.input !== undefined && (typeof options.input !== 'object' || options.input === null || Array.isArray(options.input))) {
      throw new PipelineValidationError(`resume input must be an object of input fields to merge over the stored input`);
    }
    const plan = planResume(definition.graph, claimed.steps, options.rerun ?? [], run.status === 'completed');
    const stored = decodeValue(run.input);
    const input = { ...toInputRecord(stored), ...(options.input as Record<string, unknown> | undefined) };
    const encodedInput = options.input === undefined ? run.input : encodeValue(input);
    await callStore(store, runId, () => store.setRunStatus(runId, epoch, 'running', { input: encodedInput, error: undefined, conversationState: undefined }), clock);
    const durable = new DurableRun({
      store,
      runId,
      owner,
      epoch,
      leaseMs,
      firstStartedAt: run.createdAt,
      spentMicrocents: run.costMicrocents,
      plan,
      size: definition.graph.ids.length,
      clock,
      before: { status: run.status, input: run.input, error: run.error, conversationState: run.conversationState },
    });
    return { durable, input };
  } catch (error) {
    await release();
    throw error;
  }
}
