// Why tiercache fails a test on purpose, test by test (rendered into CONFORMANCE.md). A failing test not listed
// here is a test not passing yet.

const AGE_LIST =
  'RFC 9111 §5.1: a cache reads the first member of a list-valued Age. The suite follows an earlier draft that called any list invalid and the response stale; here the first member counts (`0, 0` is age 0, fresh). No browser passes it.'
const SET_COOKIE =
  'Set-Cookie is never stored: a page never sees it through fetch, and in a server-side process the cached fetch may serve several users, so replaying one response\'s cookies to another request would leak a session. No browser passes it either (fetch hides the field).'
const DISCONNECT =
  'The server drops the connection, so no answer can come "from the server": no cache passes it. tiercache fails the request where the response forbids stale answers (must-revalidate, no-cache) and otherwise answers stale while cut off from the origin, as RFC 9111 §4.2.4 lets a private cache (proxy-revalidate and s-maxage bind shared caches only).'
const PARTIAL =
  'Only complete responses are stored; a Range request is answered 206 from a stored complete one. A 206 from the origin is passed through unstored (storing and combining parts is not implemented).'

const SHARED_AGE_LIST =
  'RFC 9111 §5.1: a cache reads the first member of a list-valued Age. The suite follows an earlier draft that called any list invalid and the response stale; here the first member counts (`0, 0` is age 0, fresh). No published shared cache passes it.'
const WORKERD_ENCODING =
  'workerd (like Cloudflare) compresses answers for clients that accept gzip or br and sends them chunked, so no Content-Length reaches the client whatever the Worker sets; the stored body is served whole. A platform behaviour, not the cache\'s.'
const WORKERD_METHOD =
  'workerd answers `501 Unrecognized request method` to M-SEARCH before the Worker runs (the proxy never sees the request); withCache itself drops the stored GET after any unsafe method that succeeds, M-SEARCH included, as the other invalidate-* tests show.'
const WORKERD_TRANSFER_ENCODING =
  "The suite's server sends a Transfer-Encoding value workerd's fetch does not accept, so the origin's response never reaches the Worker (workerd logs the rejection); Transfer-Encoding is never stored by withCache in any case."
const SHARED_SET_COOKIE =
  'A response that sets a cookie is never stored by withCache: the cookie belongs to one user, and a shared cache replaying it to others would hand out sessions (RFC 9111 §3 allows storing it; CDNs such as Cloudflare do not by default).'
const SHARED_DISCONNECT =
  'The server drops the connection, so no answer can come "from the server" and the suite counts any answer as "from cache": no published cache passes it. withCache does not serve the stale copy here (must-revalidate, proxy-revalidate, no-cache and s-maxage close the stale windows, RFC 9111 §4.2.4): the origin\'s failure reaches the client as an error.'
const HEURISTIC =
  'Heuristic freshness (RFC 9111 §4.2.2) is off in origin mode: a response without an explicit lifetime is not stored, so an origin that never meant to be cached is not cached by a guess. (issue 12: "off unless enabled"; an option to enable it is not implemented yet.)'

/** What a reader of a target's section needs to know first. @type {Partial<Record<'private' | 'shared', string>>} */
export const NOTES = {
  shared:
    "The Worker runs withCache with `policy: 'origin'` (RFC 9111 shared-cache mode: lifetimes and caching headers from the origin's response; a stale response with a validator is revalidated and a 304 freshens it; Surrogate-Control read as this cache's directives, targeted ones first; a request with Authorization stored only when the answer says `public`, `s-maxage` or `must-revalidate`, RFC 9111 §3.5; a request with Cookie cached by the answer's own headers). Not implemented yet, so listed below without reasons: heuristic freshness (off by design, see below), storing partial (206) responses, and HEAD updating a stored GET.\n\n" +
    "Request Cache-Control directives (`max-age`, `min-fresh`, `max-stale`, `no-cache`, `no-store`, `only-if-cached` sent by the client) are ignored in both modes, on purpose: RFC 9111 §5.2.1 makes them advisory (\"caches MAY implement them, but are not required to\"), and a shared cache in front of an origin that obeyed them would let any client make it load from the origin at will (every browser reload sends `no-cache`), which is why CDNs ignore them by default too. The suite's `cc-request` tests are `check` tests (no right answer), so they are not counted above.",
}

/** @type {Record<'private' | 'shared', Record<string, string>>} */
export const REASONS = {
  private: {
    'age-parse-prefix-twoline': AGE_LIST,
    'age-parse-dup-0': AGE_LIST,
    'age-parse-dup-0-twoline': AGE_LIST,
    'age-parse-dup-old': AGE_LIST,
    'headers-store-Set-Cookie': SET_COOKIE,
    'headers-store-Set-Cookie2': SET_COOKIE,
    '304-etag-update-response-Set-Cookie': SET_COOKIE,
    '304-etag-update-response-Set-Cookie2': SET_COOKIE,
    'stale-close-must-revalidate': DISCONNECT,
    'stale-close-no-cache': DISCONNECT,
    'stale-close-proxy-revalidate': DISCONNECT,
    'stale-close-s-maxage=2': DISCONNECT,
    'cc-resp-immutable-fresh':
      "A caller's `cache: 'no-cache'` is an explicit request to revalidate; `immutable` (RFC 8246) is meant to spare revalidation on a user's reload, which a script's fetch is not. No browser passes it.",
    'method-POST':
      'A POST answer is not stored for later GETs (RFC 9110 §9.3.3 allows it with explicit freshness and Content-Location); after a POST the URL\'s stored response is dropped (RFC 9111 §4.4). No browser passes it.',
    'vary-normalise-lang-order':
      'Without q-values the order of Accept-Language is the preference order, so `en, de` and `de, en` can select different representations: not treated as equal. Whitespace and case are normalised.',
    'vary-normalise-lang-select':
      'Matching a stored Content-Language against the q-values of Accept-Language (content negotiation inside the cache) is not done; variants are matched on the normalised header value.',
    'partial-store-partial-reuse-partial': PARTIAL,
    'partial-store-partial-reuse-partial-byterange': PARTIAL,
    'partial-store-partial-reuse-partial-absent': PARTIAL,
    'partial-store-partial-reuse-partial-suffix': PARTIAL,
    'partial-store-partial-complete': PARTIAL,
  },
  shared: {
    'other-set-cookie': SHARED_SET_COOKIE,
    'stale-close-must-revalidate': SHARED_DISCONNECT,
    'stale-close-proxy-revalidate': SHARED_DISCONNECT,
    'stale-close-no-cache': SHARED_DISCONNECT,
    'stale-close-s-maxage=2': SHARED_DISCONNECT,
    'headers-store-Set-Cookie': SHARED_SET_COOKIE,
    'headers-store-Set-Cookie2': SHARED_SET_COOKIE,
    '304-etag-update-response-Set-Cookie': SHARED_SET_COOKIE,
    '304-etag-update-response-Set-Cookie2': SHARED_SET_COOKIE,
    'age-parse-prefix-twoline': SHARED_AGE_LIST,
    'age-parse-dup-0': SHARED_AGE_LIST,
    'age-parse-dup-0-twoline': SHARED_AGE_LIST,
    'age-parse-dup-old': SHARED_AGE_LIST,
    'headers-store-Content-Length': WORKERD_ENCODING,
    '304-etag-update-response-Content-Length': WORKERD_ENCODING,
    'headers-store-Transfer-Encoding': WORKERD_TRANSFER_ENCODING,
    'invalidate-M-SEARCH': WORKERD_METHOD,
    'invalidate-M-SEARCH-cl': WORKERD_METHOD,
    'invalidate-M-SEARCH-failed': WORKERD_METHOD,
    ...Object.fromEntries(
      ['200', '203', '204', '404', '405', '410', '414', '501', '599'].map((code) => [`heuristic-${code}-cached`, HEURISTIC]),
    ),
  },
}
