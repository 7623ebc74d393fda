'use strict';
// Helpers shared by the test files (no tests of its own).

// Run `fn(baseUrl)` against `app` listening on a free local port, then close it.
async function withServer(app, fn) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    await fn(`http://127.0.0.1:${server.address().port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

module.exports = { withServer };
