/* fastroai/distributed: distributed runs on BullMQ (API.md §13). bullmq and ioredis are optional peers, loaded when a runner or worker is made. */
export { QueueRunner, type QueueRunnerOptions } from './queue-runner';
export { createStepWorker, type StepWorker, type StepWorkerOptions } from './create-step-worker';
export { stepJobId } from './step-job-id';
export type { StepJobData, StepJobResult } from './step-job-data';
export { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, queueChannels } from './queue-channels';
export type { RedisConnection } from './redis-connection-options';
