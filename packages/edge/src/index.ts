// @tiercache/edge: Workers Cache API tier, Upstash Redis tier, Worker middleware.
// Placeholder until the stores land; see test/HARNESS.md for the runtime facts they rely on.
export {}
