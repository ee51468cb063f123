import 'reflect-metadata';

/* Pipeline */
export { Pipeline, type PipelineOptions, type FromStepsOptions, type ExecuteOptions, type ResumeOptions } from './pipeline/pipeline';
export { toMermaidGantt } from './pipeline/to-mermaid-gantt';
export type { PipelineResult, StepTiming } from './pipeline/pipeline-result';
export type * from './pipeline/pipeline-event';

/* Steps */
export { BaseStep, type StepClass, type StepOutput, type StepLike } from './steps/base-step';
export { step } from './steps/function-step';
export { StepContext, type StepContextOptions } from './context/step-context';
export type { AgentCallOptions } from './context/run-agent-call';

/* Configuration */
export { StepConfig, PipelineConfig, type StepConfigOptions, type PipelineConfigOptions } from './config/step-config';

/* Conversations */
export { ConversationState, ConversationStatus } from './conversation/conversation-state';

/* Usage */
export { StepUsage, type StepUsageFields } from './usage/step-usage';
export { PipelineUsage, type PipelineUsageFields } from './usage/pipeline-usage';
export { attachReportedUsage, reportedUsageOf } from './usage/reported-usage';

/* Agents */
export { ChatResponse, type ChatResponseFields, type ToolCallRecord } from './agent/chat-response';
export type { RunnableAgent, AgentRunOptions } from './agent/runnable-agent';
export { FastroAgent, type FastroAgentOptions } from './agent/fastro-agent';
export type { AgentPrompt } from './agent/agent-step';
export type { StreamChunk } from './agent/stream-chunk';
export { AgentTimeoutError } from './agent/agent-timeout-error';
export { safeTool, type SafeToolOptions } from './agent/safe-tool';
export { categorizeError } from './agent/categorize-error';

/* Cost */
export {
  CostCalculator,
  type CostCalculatorOptions,
  type PricingOverride,
  type ExtraTokenCounts,
  type FormattedCost,
} from './cost/cost-calculator';
export { dollarsToMicrocents, microcentsToDollars } from './cost/microcents';

/* Errors */
export * from './errors';

/* Tracing */
export * from './tracing';

/* Routing */
export { BasePipeline } from './router/base-pipeline';

/* Dependency injection */
export { DEPS, TRACER } from './di/tokens';

/* Decorators */
export * from '../decorators';

/* Runners */
export { IN_PROCESS_RUNNER, type StepRunner } from './executor/step-runner';
export { runStepTask, type StepTask, type StepOutcome } from './executor/run-step-task';

/* Durable runs */
export type {
  RunStore,
  RunRecord,
  StepRecord,
  RunStatus,
  StepRecordStatus,
  RecordOutcome,
  ClaimedRun,
  CancelRequestOutcome,
  RunListQuery,
  RunListPage,
  StoredError,
  EncodedValue,
} from './store/run-store';
export { MemoryRunStore, type MemoryRunStoreOptions } from './store/memory-run-store';
