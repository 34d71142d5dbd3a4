package dev.curvlab.nn.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Inputs that are not regular files: a FIFO, a pipe from process substitution
 * ({@code --params <(cat params.npy)}, i.e. {@code /dev/fd/63}), a character device. They are
 * read once, sequentially, as streams (never with seeks), and opening one is given
 * {@link #openTimeoutMillis()} (system property {@code curvlab.input.openTimeoutMs}, default
 * 10,000) to find a writer: a FIFO that no process writes to is refused naming the file instead of
 * blocking forever.
 */
public final class InputFiles {
    private InputFiles() {
    }

    /** Whether {@code file} exists and is read as a stream (not a regular file, not a directory). */
    public static boolean isStream(Path file) {
        return Files.exists(file) && !Files.isRegularFile(file) && !Files.isDirectory(file);
    }

    /** Opens a stream input, waiting at most {@link #openTimeoutMillis()} for a writer. */
    public static InputStream open(Path file) throws IOException {
        FutureTask<InputStream> task = new FutureTask<>(() -> Files.newInputStream(file));
        Thread t = new Thread(task, "curvlab-open-input");
        t.setDaemon(true);
        t.start();
        long timeout = openTimeoutMillis();
        try {
            return task.get(timeout, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException(file + ": no process writes to this FIFO (waited " + timeout / 1000.0
                    + " s to open it); start the writer first or pass a regular file");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(file + ": interrupted while opening", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(file + ": cannot open: " + c, c);
        }
    }

    /** Reads a whole stream input (at most {@code limit} bytes; more is an error naming the file). */
    public static byte[] readAll(Path file, long limit) throws IOException {
        try (InputStream in = open(file)) {
            byte[] b = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
            if (b.length > limit) {
                throw new IOException(file + ": stream input larger than " + limit + " bytes");
            }
            return b;
        }
    }

    /**
     * Copies a stream input into a new registered temporary file (system temporary directory) so
     * that it can be read like a regular file; the caller discards it with {@link AtomicFiles#discard}.
     */
    public static Path copyToTemporary(Path file) throws IOException {
        Path tmp = AtomicFiles.createTemporary(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().resolve("curvlab-input"));
        boolean ok = false;
        try (InputStream in = open(file); var out = Files.newOutputStream(tmp, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            in.transferTo(out);
            ok = true;
            return tmp;
        } finally {
            if (!ok) {
                AtomicFiles.discard(tmp);
            }
        }
    }

    /** The open timeout in milliseconds. */
    public static long openTimeoutMillis() {
        try {
            return Long.parseLong(System.getProperty("curvlab.input.openTimeoutMs", "10000"));
        } catch (NumberFormatException e) {
            return 10000;
        }
    }
}
