import { createCache, memoryStore, slidingExpiry } from '@tiercache/core'

/** A clock the example moves by hand. */
function manualClock() {
  let t = Date.UTC(2026, 0, 1)
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

/** Sessions: alive while used, gone 30 minutes after the last request, and never older than 12 hours. */
export async function slidingExample() {
  const clock = manualClock()
  const sessions = createCache({
    tiers: [memoryStore()], // and a shared L2 in production: every tier holding the session is extended
    policy: { ttl: '30m', sliding: true, maxAge: '12h' },
    strategies: [slidingExpiry()],
    now: clock.now,
  })
  await sessions.set('session:ada', { user: 'ada' })

  // A request every 20 minutes keeps it alive past its first 30 minutes...
  for (let i = 0; i < 6; i++) clock.advance(20 * 60_000), await sessions.get('session:ada')
  const afterTwoHours = await sessions.get('session:ada')
  // ...an hour without one ends it.
  clock.advance(60 * 60_000)
  const afterAnIdleHour = await sessions.get('session:ada')

  // However busy, a session ends 12 hours after it was written.
  await sessions.set('session:bob', { user: 'bob' })
  let lastSeen = 0
  for (let minutes = 10; minutes <= 13 * 60; minutes += 10) {
    clock.advance(10 * 60_000)
    if ((await sessions.get('session:bob')) !== undefined) lastSeen = minutes
  }
  return { afterTwoHours, afterAnIdleHour, bobLastSeenAfterMinutes: lastSeen }
}
