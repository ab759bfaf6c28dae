export { OpenAICompatibleServer, type Reply, type Usage } from './openai-compatible-server.ts'
