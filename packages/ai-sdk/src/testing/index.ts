export { localChatModel } from './local-chat-model.ts'
export {
  adapterTestConfig,
  type MockStreamSettings,
  meteredMockModel,
  mockUsage,
} from './metered-mock-model.ts'
export { OpenAICompatibleServer, type Reply, type Usage } from './openai-compatible-server.ts'
