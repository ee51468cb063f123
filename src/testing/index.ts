/* fastroai/testing: helpers for users' own tests. */
export { createMockAgent, type MockAgent, type MockReply } from './mock-agent';
export { createOfflineDemoModel, OFFLINE_DEMO_MODEL_ID, type OfflineDemoModelOptions } from './offline-demo-model';
export { createVirtualClock, type VirtualClock, type VirtualClockOptions } from './virtual-clock';
export type { Clock, TimerHandle } from '../clock/clock';
