/** The page: three buttons over the app. Open it in two tabs and watch Cache-Status. */
import { createApp } from './app.js'

const app = createApp()
const out = document.querySelector<HTMLPreElement>('#out') as HTMLPreElement

function show(line: string): void {
  out.textContent = `${new Date().toLocaleTimeString()}  ${line}\n${out.textContent ?? ''}`
}

document.querySelector('#time')?.addEventListener('click', async () => {
  const { version, time, cacheStatus } = await app.time()
  show(`version ${version} at ${time} — ${cacheStatus}`)
})
document.querySelector('#bump')?.addEventListener('click', async () => {
  await app.bump()
  show('POST /api/time: new version on the server; the cached GET is gone in every tab')
})
document.querySelector('#forget')?.addEventListener('click', async () => {
  await app.forgetAll()
  show("invalidateTags(['api']) in every tab")
})
