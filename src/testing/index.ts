/* fastroai/testing: helpers for users' own tests. */
export { createMockAgent, type MockAgent, type MockReply } from './mock-agent';
