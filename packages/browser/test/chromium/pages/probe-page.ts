/**
 * Page-side probe API, bundled by esbuild and driven from probe.driver.test.ts
 * through `page.evaluate(() => window.probe.…)`. Everything returned must be
 * structured-cloneable (plain data).
 */
import { createStore, get, set } from 'idb-keyval'
import { responseInfo, type ResponseInfo } from './response-info.js'

const store = createStore('tiercache-probe', 'entries')
const channelName = 'tiercache-probe'
const received: unknown[] = []
// Keep a listener open from load so a message posted by another page is not missed.
const listener = new BroadcastChannel(channelName)
listener.onmessage = (e: MessageEvent) => received.push(e.data)

const probe = {
  idbPut: (key: string, value: unknown) => set(key, value, store),
  idbGet: (key: string) => get(key, store),
  broadcast(message: unknown) {
    const ch = new BroadcastChannel(channelName)
    ch.postMessage(message)
    ch.close()
  },
  received: () => received.slice(),
  estimate: async () => {
    const { quota, usage } = await navigator.storage.estimate()
    return { quota, usage, persisted: await navigator.storage.persisted(), secure: isSecureContext }
  },
  fetchInfo: async (url: string, init?: RequestInit): Promise<ResponseInfo> => responseInfo(await fetch(url, init)),
}

export type Probe = typeof probe

declare global {
  interface Window {
    probe: Probe
    __ready?: boolean
  }
}

window.probe = probe
window.__ready = true
