package dev.curvlab.nn.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way curvlab writes a file: complete or not at all, never through a temporary anyone
 * else can predict or redirect, never replacing a device.
 *
 * <h2>Regular targets</h2>
 * The content goes to a fresh temporary in the target's directory, named
 * {@code .NAME.<random>.partial}, created with {@code CREATE_NEW} and {@code NOFOLLOW_LINKS} (so a
 * symlink or a concurrent writer's temporary can never be written through), then forced to disk
 * ({@code fsync}) and renamed over the target ({@code rename(2)}, atomic on POSIX file systems),
 * and the directory is forced too. <b>Durability</b>: after {@link #write} or {@link #commit}
 * returns, the file holds the complete new content and survives a power loss on file systems that
 * honour {@code fsync} (ext4, xfs, btrfs); a crash before leaves the previous file (or none) plus at
 * most a hidden {@code .partial}. Two processes writing the same target each use their own
 * temporary; the target then holds one complete result (the last renamed). The fsync costs about
 * 0.35 s per 260 MB on the project's machine (provisional); {@code -Dcurvlab.fsync=false} skips it
 * where power-loss durability is not needed (atomicity is kept). A target that is a
 * symlink is written through: the file it points to is replaced, the link stays.
 *
 * <h2>Special targets</h2>
 * A target that exists and is not a regular file (a character device such as {@code /dev/null} or
 * {@code /dev/full}, a FIFO, a socket), and {@code /dev/stdout}, {@code /dev/fd/N} or any path
 * under {@code /proc/}, is written in place, sequentially, and never renamed over or created; errors (such as
 * {@code /dev/full}'s "No space left on device") are reported naming the file.
 *
 * <h2>Cleanup</h2>
 * Every temporary is registered until it is committed or discarded; a JVM shutdown hook (run on
 * normal exit, {@code System.exit}, SIGINT and SIGTERM) deletes those still registered, so an
 * interrupted command leaves no {@code .partial} behind (SIGKILL cannot be caught: a hidden
 * {@code .partial} may then remain; it is never mistaken for a result). Checkpoint files are not
 * temporaries and are kept.
 *
 * <h2>Directories</h2>
 * A directory output (a set of files that belongs together, e.g. a posterior) is filled in a fresh
 * temporary directory {@code .NAME.<random>.partial} in the target's parent, created exclusively
 * ({@code mkdir}, which never follows a symlink planted there) and registered like a temporary file;
 * {@link #commitDirectory} renames it into place (an earlier directory is first renamed aside, then
 * deleted). The shutdown hook deletes a registered temporary directory with its contents (a walk
 * that does not follow symlinks).
 *
 * <p>Several outputs that must appear together go through {@link OutputTransaction}.
 */
public final class AtomicFiles {
    /** Content written sequentially to a channel (a temporary file or a special file). */
    @FunctionalInterface
    public interface Content {
        void writeTo(WritableByteChannel channel) throws IOException;
    }

    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile boolean shuttingDown;
    private static final Thread HOOK = new Thread(AtomicFiles::deleteAll, "curvlab-temporary-cleanup");

    static {
        try {
            Runtime.getRuntime().addShutdownHook(HOOK);
        } catch (IllegalStateException e) {
            shuttingDown = true;
        }
    }

    private AtomicFiles() {
    }

    /** Writes {@code content} to {@code target} atomically (or in place for a special file); see the class comment. */
    public static void write(Path target, Content content) throws IOException {
        if (isSpecial(target)) {
            writeInPlace(target, content);
            return;
        }
        Path tmp = createTemporary(target);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                content.writeTo(ch);
            } catch (IOException e) {
                throw failure(target, e);
            }
            commit(tmp, target);
            done = true;
        } finally {
            if (!done) {
                discard(tmp);
            }
        }
    }

    /** Writes {@code bytes} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
    }

    /**
     * A new, empty, registered temporary for {@code target}: {@code .NAME.<random>.partial} in the
     * target's (real) directory, created exclusively without following symlinks; in the system's
     * temporary directory when the target is a special file. Finish with {@link #commit} or
     * {@link #discard}.
     */
    public static Path createTemporary(Path target) throws IOException {
        Path name = temporaryName(target);
        return createExclusive(name);
    }

    /**
     * A unique name (not created) for a temporary of {@code target}; create it with
     * {@link #createExclusive}.
     */
    public static Path temporaryName(Path target) throws IOException {
        Path real = resolve(target);
        Path dir = isSpecial(target) ? Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath() : real.getParent();
        return dir.resolve("." + real.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".partial");
    }

    /** Creates {@code file} (it must not exist; a symlink there is not followed) and registers it as a temporary. */
    public static Path createExclusive(Path file) throws IOException {
        if (shuttingDown) {
            throw new IOException(file + ": not created, the process is shutting down");
        }
        for (int attempt = 0; ; attempt++) {
            try {
                Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)).close();
                LIVE.add(file);
                return file;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100 || !file.getFileName().toString().endsWith(".partial")) {
                    throw e;
                }
                String s = file.getFileName().toString();
                String base = s.substring(0, s.lastIndexOf('.', s.length() - ".partial".length() - 1));
                file = file.resolveSibling(base + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".partial");
            }
        }
    }

    /**
     * A new, empty, registered temporary directory for the directory {@code target}:
     * {@code .NAME.<random>.partial} in the target's real parent, created exclusively (an existing
     * file, directory or symlink of that name is never used). Finish with {@link #commitDirectory}
     * or {@link #discard}.
     */
    public static Path createTemporaryDirectory(Path target) throws IOException {
        Path real = resolveDirectory(target);
        for (int attempt = 0; ; attempt++) {
            if (shuttingDown) {
                throw new IOException(target + ": not created, the process is shutting down");
            }
            Path tmp = real.resolveSibling("." + real.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE)
                    + ".partial");
            try {
                Files.createDirectory(tmp);
                LIVE.add(tmp);
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            } catch (IOException e) {
                throw failure(target, e);
            }
        }
    }

    /**
     * Renames the complete temporary directory over {@code target}: a directory already there is
     * renamed aside first (to a unique hidden name), then deleted; if the second rename fails it is
     * put back. Then forces the parent directory.
     */
    public static void commitDirectory(Path temporary, Path target) throws IOException {
        Path real = resolveDirectory(target);
        try {
            if (durable()) {
                forceDirectory(temporary);
            }
            Path old = null;
            if (Files.exists(real, LinkOption.NOFOLLOW_LINKS)) {
                old = real.resolveSibling("." + real.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE)
                        + ".old");
                Files.move(real, old, StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(temporary, real, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (old != null) {
                    Files.move(old, real, StandardCopyOption.ATOMIC_MOVE);
                }
                throw e;
            }
            LIVE.remove(temporary);
            if (old != null) {
                deleteTree(old);
            }
            if (durable()) {
                forceDirectory(real.getParent());
            }
        } catch (IOException e) {
            throw failure(target, e);
        }
    }

    /** A directory target's path: its parent's real path plus its own name (the name itself is never followed). */
    static Path resolveDirectory(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null) {
            throw new IOException(target + ": cannot write: no parent directory");
        }
        return parent.toRealPath().resolve(abs.getFileName());
    }

    /** Deletes a directory and everything in it; symlinks inside are deleted, never followed. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(dir);
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Registers an existing temporary (deleted at exit unless committed or discarded). */
    public static void track(Path temporary) {
        LIVE.add(temporary);
    }

    /**
     * Forces {@code temporary} to disk and renames it over {@code target} (copies it into a special
     * target in place, then deletes it); then forces the directory.
     */
    public static void commit(Path temporary, Path target) throws IOException {
        try {
            if (isSpecial(target)) {
                try (InputStream in = Files.newInputStream(temporary)) {
                    writeInPlace(target, ch -> {
                        OutputStream os = Channels.newOutputStream(ch);
                        in.transferTo(os);
                        os.flush();
                    });
                }
                discard(temporary);
                return;
            }
            Path real = resolve(target);
            if (durable()) {
                try (FileChannel ch = FileChannel.open(temporary, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                    ch.force(true);
                }
            }
            try {
                Files.move(temporary, real, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, real, StandardCopyOption.REPLACE_EXISTING);
            }
            LIVE.remove(temporary);
            if (durable()) {
                forceDirectory(real.getParent());
            }
        } catch (IOException e) {
            throw failure(target, e);
        }
    }

    /** Deletes a temporary file or directory (if it exists) and unregisters it. */
    public static void discard(Path temporary) {
        if (temporary == null) {
            return;
        }
        try {
            deleteTree(temporary);
        } catch (IOException ignored) {
            // best effort; the shutdown hook tries again
            return;
        }
        LIVE.remove(temporary);
    }

    /**
     * True for a target written in place: it exists and is not a regular file or directory
     * (device, FIFO, socket; symlinks followed), or it is {@code /dev/stdout}, {@code /dev/fd/N} or
     * lies under {@code /proc/}.
     */
    public static boolean isSpecial(Path target) {
        String abs = target.toAbsolutePath().normalize().toString();
        if (abs.startsWith("/proc/") || abs.startsWith("/dev/fd/") || abs.matches("/dev/std(in|out|err)")) {
            return true;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(target, BasicFileAttributes.class);
            return a.isOther() || target.toRealPath().toString().startsWith("/proc/");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether {@code a} and {@code b} name the same file: the same path after resolving symlinks
     * and {@code ..} (also when neither exists yet), or the same inode (hard links).
     */
    public static boolean sameFile(Path a, Path b) {
        try {
            if (resolve(a).equals(resolve(b))) {
                return true;
            }
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException | SecurityException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    /** The target's real path: symlinks followed when it exists, else its directory's real path plus its name. */
    static Path resolve(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs)) {
            return abs.toRealPath();
        }
        Path dir = abs.getParent();
        if (dir == null) {
            return abs;
        }
        if (Files.isSymbolicLink(abs)) {
            // a dangling link: writing creates what it points to; keep the link's own path
            return abs;
        }
        return Files.exists(dir) ? dir.toRealPath().resolve(abs.getFileName()) : abs;
    }

    /**
     * Whether commits force data and directory to disk: true unless the system property
     * {@code curvlab.fsync} is {@code false} (then a result is still complete or absent after a
     * crash of curvlab, but not necessarily after a power loss; saves about 0.35 s per 260 MB here).
     */
    public static boolean durable() {
        return !"false".equalsIgnoreCase(System.getProperty("curvlab.fsync"));
    }

    /** Temporaries registered now (tests). */
    static Set<Path> live() {
        return Set.copyOf(LIVE);
    }

    private static void writeInPlace(Path target, Content content) throws IOException {
        // no CREATE, no TRUNCATE: a device or FIFO is written as it is, never replaced
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
            content.writeTo(ch);
        } catch (NoSuchFileException e) {
            throw new IOException(target + ": cannot write: it does not exist (special files are written in place, never created)", e);
        } catch (IOException e) {
            throw failure(target, e);
        }
    }

    static void writeFully(WritableByteChannel ch, java.nio.ByteBuffer bb) throws IOException {
        while (bb.hasRemaining()) {
            ch.write(bb);
        }
    }

    private static IOException failure(Path target, IOException e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (msg.startsWith(target.toString())) {
            return e;
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            msg = f.getReason();
        }
        return new IOException(target + ": cannot write: " + msg, e);
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException ignored) {
            // directories cannot be opened or synced on some platforms; the data itself is synced
        }
    }

    private static void deleteAll() {
        shuttingDown = true;
        for (Path p : LIVE) {
            try {
                deleteTree(p);
            } catch (IOException | RuntimeException ignored) {
                // nothing more to do at exit
            }
        }
        LIVE.clear();
    }
}
