/**
 * Audit of the stream API against node:net and the WHATWG streams spec: each test here failed
 * before the fix it names (see the commit that added it).
 */

import test from 'ava';
import { codeOf, pair } from './fixtures/tcp-util';

test('writable.abort() while a write waits for the peer closes the socket at once', async (t) => {
  t.timeout(20_000);
  const { client, server, listener } = await pair();
  const writer = client.writable.getWriter();
  // Far more than the socket buffers hold: the write waits while the peer reads nothing more.
  const pending = writer.write(Buffer.alloc(64 << 20));
  pending.catch(() => undefined);
  // Proof that the write is in flight: the peer received some of it.
  t.not(await server.read(Buffer.alloc(1024)), null);
  // The spec runs the sink's abort() only after the in-flight write settles; the socket must
  // be closed without waiting for the peer (which never reads again).
  await writer.abort(new Error('stop'));
  t.true(client.closed);
  t.is(codeOf(await t.throwsAsync(pending)), 'ERR_SOCKET_CLOSED');
  server.close();
  listener.close();
});
