package dev.txstep.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of PostgreSQL that can lose the acknowledgement of one {@code COMMIT}: the
 * server has committed, the client never hears so.
 *
 * <p>It forwards bytes both ways, two pump threads per connection. When {@linkplain #arm() armed},
 * the server-to-client pump looks for the PostgreSQL {@code CommandComplete} message of a commit —
 * type byte {@code 'C'}, int32 length 11, tag {@code "COMMIT\0"} — that ends its message, i.e. is
 * followed by {@code ReadyForQuery} (type byte {@code 'Z'}, int32 length 5), and, when it sees one,
 * closes both sockets without forwarding the chunk that holds it, and disarms. (A {@code COMMIT}
 * followed by more commands is not a step's commit: the first step of a SERIALIZABLE workflow
 * execution commits its read of the recorded ids and begins its own transaction in one message.) By then the server has
 * made the transaction durable (it sends {@code CommandComplete} after the commit), so the client
 * sees a connection lost in the middle of its {@code COMMIT}: the ambiguous outcome that
 * exactly-once steps must resolve.
 *
 * <p>The pattern may straddle two reads; the pump keeps the last bytes of the previous chunk and
 * searches across the boundary. If the message straddles, its first bytes were already forwarded,
 * but the client cannot act on an incomplete message, so the acknowledgement is still lost.
 *
 * <p>Not a general-purpose proxy: no TLS (r2dbc-postgresql and the PostgreSQL JDBC driver only
 * negotiate TLS when asked to), and meant for a handful of connections in one test.
 */
public final class CommitDroppingProxy implements AutoCloseable {

    /**
     * {@code CommandComplete("COMMIT")}: 'C', length 4 + 7 = 11 (big-endian), "COMMIT", NUL; then
     * the {@code ReadyForQuery} that ends the message: 'Z', length 5.
     */
    static final byte[] COMMIT_COMPLETE = {'C', 0, 0, 0, 11, 'C', 'O', 'M', 'M', 'I', 'T', 0, 'Z', 0, 0, 0, 5};

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final AtomicBoolean armed = new AtomicBoolean();
    private final AtomicInteger dropped = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile CountDownLatch droppedLatch = new CountDownLatch(1);
    private volatile boolean closed;

    private CommitDroppingProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(this::acceptLoop, "commit-dropping-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts a proxy on 127.0.0.1, an ephemeral port, forwarding to {@code host:port}. */
    public static CommitDroppingProxy start(String host, int port) throws IOException {
        return new CommitDroppingProxy(host, port);
    }

    /** Starts a proxy forwarding to the local PostgreSQL on 127.0.0.1:5432. */
    public static CommitDroppingProxy startForLocalPostgres() throws IOException {
        return start("127.0.0.1", 5432);
    }

    /** The port the proxy listens on. */
    public int port() {
        return server.getLocalPort();
    }

    /** Drops the connection that carries the next {@code COMMIT} acknowledgement. */
    public void arm() {
        droppedLatch = new CountDownLatch(1);
        armed.set(true);
    }

    /** Whether the proxy still waits for a commit acknowledgement to drop. */
    public boolean isArmed() {
        return armed.get();
    }

    /** How many acknowledgements the proxy has dropped. */
    public int droppedCommits() {
        return dropped.get();
    }

    /** How many client connections the proxy has accepted. */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** Waits until the armed proxy has dropped an acknowledgement. */
    public boolean awaitDrop(long timeout, TimeUnit unit) throws InterruptedException {
        return droppedLatch.await(timeout, unit);
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        sockets.forEach(CommitDroppingProxy::closeQuietly);
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            sockets.add(client);
            sockets.add(upstream);
            int n = accepted.get();
            start("proxy-" + n + "-c2s", () -> pump(client, upstream, false));
            start("proxy-" + n + "-s2c", () -> pump(upstream, client, true));
        }
    }

    private void pump(Socket from, Socket to, boolean serverToClient) {
        byte[] buffer = new byte[16 * 1024];
        // The last bytes of the previous chunk, so a pattern split across two reads is still found.
        byte[] carry = new byte[0];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) != -1) {
                if (serverToClient && armed.get()) {
                    byte[] window = new byte[carry.length + read];
                    System.arraycopy(carry, 0, window, 0, carry.length);
                    System.arraycopy(buffer, 0, window, carry.length, read);
                    if (indexOf(window, COMMIT_COMPLETE) >= 0 && armed.compareAndSet(true, false)) {
                        // The server has committed; the client must never learn it. Drop this chunk.
                        dropped.incrementAndGet();
                        closeQuietly(from);
                        closeQuietly(to);
                        droppedLatch.countDown();
                        return;
                    }
                    int keep = Math.min(window.length, COMMIT_COMPLETE.length - 1);
                    carry = Arrays.copyOfRange(window, window.length - keep, window.length);
                } else {
                    carry = new byte[0];
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (SocketException e) {
            // The other pump or close() closed a socket: this connection is over.
        } catch (IOException e) {
            // Same: the connection is over.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void start(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing is best effort
        }
    }
}
