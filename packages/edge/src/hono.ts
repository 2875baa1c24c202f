// @tiercache/edge/hono: Hono middleware and route helper. Placeholder.
export {}
