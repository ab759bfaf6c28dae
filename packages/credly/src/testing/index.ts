export {
  API_KEY,
  ContractServer,
  type Fault,
  PRICES,
  PROJECT_ID,
  type RecordedRequest,
} from './contract-server.ts'
