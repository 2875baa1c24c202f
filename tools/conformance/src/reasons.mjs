// Why tiercache fails a test on purpose, test by test (rendered into CONFORMANCE.md). A failing test not listed
// here is a test not passing yet.

/** @type {Record<'private' | 'shared', Record<string, string>>} */
export const REASONS = {
  private: {},
  shared: {},
}
