import { runWriteQueueContract } from '../testing/write-queue-contract.js'
import { memoryWriteQueue } from './memory-queue.js'

runWriteQueueContract({ name: 'memoryWriteQueue', create: () => memoryWriteQueue() })
