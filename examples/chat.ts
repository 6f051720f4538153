/**
 * A TCP chat server: every line a client sends reaches every other client.
 *
 * Each connection task merges two streams with a StreamMap, as in tokio's chat example:
 * the client's own lines (key `'in'`) and the room's broadcast channel (key `'room'`). A line
 * from the client is published to the room; a message from the room is written to the client.
 * The first line a client sends is its name.
 *
 *   PORT=8080 npx tsx examples/chat.ts        (listens on 127.0.0.1; default port 8080)
 *   nc 127.0.0.1 8080
 *
 * In an application, import from 'corio' instead of '../src'.
 */

import { broadcast, BroadcastSender, ChannelClosedError, LaggedError, StreamMap, StreamMapError, TcpListener, TcpStream } from '../src';

const port = Number(process.env.PORT ?? 8080);

/** A message in the room: who sent it (connection id) and the text. */
interface Message {
  from: number;
  text: string;
}

/** The client's input, line by line (without the line ends). Ends when the client does. */
async function* lines(socket: TcpStream): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of socket) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
    }
  }
  if (pending.length > 0) yield pending;
}

type Event = { kind: 'line'; line: string } | { kind: 'eof' } | { kind: 'room'; msg: Message };

async function* tagged<T>(source: AsyncIterable<T>, wrap: (v: T) => Event): AsyncGenerator<Event> {
  for await (const v of source) yield wrap(v);
}

/** The client's lines as events, then one `eof` event when the client ends its side. */
async function* input(socket: TcpStream): AsyncGenerator<Event> {
  yield* tagged(lines(socket), (line) => ({ kind: 'line', line }));
  yield { kind: 'eof' };
}

/** Serves one client until it leaves; errors are logged, never thrown. */
async function serve(socket: TcpStream, id: number, room: BroadcastSender<Message>): Promise<void> {
  const events = new StreamMap<'in' | 'room', Event>();
  const rx = room.subscribe();
  let name = `guest${id}`;
  let named = false;
  try {
    events.insert('in', input(socket));
    events.insert('room', tagged(rx, (msg) => ({ kind: 'room', msg })));
    await socket.writeAll('name?\n');
    for (;;) {
      let next: IteratorResult<['in' | 'room', Event]>;
      try {
        next = await events.next();
      } catch (err) {
        if (err instanceof StreamMapError && err.key === 'room' && err.cause instanceof LaggedError) {
          await socket.writeAll(`* you missed ${err.cause.skipped} messages\n`);
          events.insert('room', tagged(rx, (msg) => ({ kind: 'room', msg })));
          continue;
        }
        throw err;
      }
      if (next.done) break;
      const [key, ev] = next.value;
      if (ev.kind === 'eof') break; // the client left
      if (key === 'in' && ev.kind === 'line') {
        if (!named) {
          name = ev.line.trim() || name;
          named = true;
          await socket.writeAll(`welcome ${name}\n`);
          room.send({ from: id, text: `* ${name} joined` });
        } else if (ev.line.length > 0) {
          room.send({ from: id, text: `${name}: ${ev.line}` });
        }
      } else if (key === 'room' && ev.kind === 'room' && ev.msg.from !== id) {
        await socket.writeAll(`${ev.msg.text}\n`);
      }
    }
  } catch (err) {
    console.error(`client ${id} error:`, (err as Error).message);
  } finally {
    rx.close();
    await events.close();
    socket.close();
    if (named) {
      try {
        room.send({ from: id, text: `* ${name} left` });
      } catch (err) {
        // During shutdown the room is already closed: nobody is left to tell.
        if (!(err instanceof ChannelClosedError)) throw err;
      }
    }
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port });
  const { address, port: bound } = listener.localAddr;
  console.log(`chat server listening on ${address}:${bound}`);
  const [room, idle] = broadcast<Message>(256);
  idle.close(); // every client subscribes its own receiver
  process.once('SIGINT', () => listener.close());
  let nextId = 1;
  for await (const socket of listener) {
    // serve() logs its own errors; the catch keeps a bug from becoming an unhandled rejection.
    serve(socket, nextId++, room).catch((err: unknown) => console.error('serve failed:', err));
  }
  room.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
