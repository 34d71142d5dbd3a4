package dev.curvlab.nn.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All the output files of one command: every one complete, or none. Built on {@link AtomicFiles}
 * (unique exclusive temporaries, fsync, rename; special files in place; cleanup on interrupt).
 *
 * <pre>{@code
 * try (OutputTransaction tx = new OutputTransaction()) {
 *     tx.input(modelFile, "--model");              // files that must never be written
 *     tx.declare(out, "--out");                     // before the work: checks the place (throws OutputException)
 *     tx.requireSpace(out, 8L * n * n);             // once the size is known, still before the work
 *     ... compute ...
 *     tx.write(out, matrix);                        // staged: a complete temporary, not yet visible
 *     Path big = tx.stage(se);                      // or a temporary for a writer that streams into it
 *     tx.commit();                                  // every output renamed into place
 * }                                                 // without commit: every temporary removed
 * }</pre>
 *
 * <p>{@link #declare} refuses, with one message naming the option and the file: a directory, a
 * missing or unwritable directory, two outputs naming the same file, and an output that is an input
 * (same path after resolving {@code ..} and symlinks, or the same inode). Outputs are renamed into
 * place one after another after all of them are complete on disk; special files ({@code /dev/null},
 * FIFOs) are written first, in place. (A crash between two renames can leave the first renamed:
 * the renames take microseconds, the computation before them does not.)
 *
 * <p><b>Directory outputs</b> ({@link #declareDirectory}, {@link #stageDirectory}): a set of files
 * that belongs together is written into a unique temporary directory in the same parent
 * ({@link AtomicFiles#createTemporaryDirectory}) and renamed into place with the other outputs. The
 * target may be absent, an empty directory or an earlier output of the same kind (it holds the
 * given marker file); never a symlink, a file, or a directory that holds an input or another output.
 */
public final class OutputTransaction implements Closeable {
    /** A place an output cannot go (or an output that would overwrite an input). */
    public static final class OutputException extends IOException {
        private static final long serialVersionUID = 1L;

        OutputException(String message) {
            super(message);
        }
    }

    /** An output; {@code marker} is null for a file, the marker file's name for a directory. */
    private record Entry(Path target, String label, boolean special, String marker) {
        boolean directory() {
            return marker != null;
        }
    }

    private final Map<String, Path> inputs = new LinkedHashMap<>();
    private final Map<Path, Entry> outputs = new LinkedHashMap<>();
    private final Map<Path, Path> staged = new LinkedHashMap<>();
    private final Map<Path, AtomicFiles.Content> deferred = new LinkedHashMap<>();
    private boolean finished;

    /** Registers a file the command reads: no output may be the same file. */
    public void input(Path file, String label) throws OutputException {
        if (file == null) {
            return;
        }
        for (Entry e : outputs.values()) {
            checkNotSame(e, file, label);
        }
        inputs.put(label, file);
    }

    /**
     * Declares an output (before the work): refuses a directory, a missing or unwritable directory,
     * an output that is an input or another output. Null is ignored.
     */
    public void declare(Path target, String label) throws OutputException {
        if (target == null || outputs.containsKey(target)) {
            return;
        }
        Path abs = target.toAbsolutePath();
        Entry entry = new Entry(target, label, AtomicFiles.isSpecial(target), null);
        checkAgainstOthers(entry);
        if (entry.special()) {
            if (!Files.exists(target)) {
                throw new OutputException(target + ": cannot write " + label + ": it does not exist (special files are written in place)");
            }
            if (!Files.isWritable(target)) {
                throw new OutputException(target + ": cannot write " + label + ": permission denied");
            }
            outputs.put(target, entry);
            return;
        }
        if (Files.isDirectory(abs)) {
            throw new OutputException(target + ": cannot write " + label + ": it is a directory");
        }
        Path dir = realParent(abs);
        if (dir == null || !Files.isDirectory(dir)) {
            throw new OutputException(target + ": cannot write " + label + ": directory " + abs.getParent() + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new OutputException(target + ": cannot write " + label + ": directory " + dir + " is not writable");
        }
        if (Files.exists(abs) && !Files.isWritable(abs)) {
            throw new OutputException(target + ": cannot write " + label + ": the file is read-only");
        }
        outputs.put(target, entry);
    }

    /**
     * Declares a directory output (before the work): its parent exists and is writable; the target
     * is absent, an empty directory, or a directory holding {@code marker} (an earlier output of
     * this kind, replaced on commit); never a symlink or a file; no input or other output lies in
     * it or is it.
     */
    public void declareDirectory(Path target, String label, String marker) throws OutputException {
        if (target == null || outputs.containsKey(target)) {
            return;
        }
        Path abs = target.toAbsolutePath().normalize();
        Entry entry = new Entry(target, label, false, marker);
        checkAgainstOthers(entry);
        Path dir = realParent(abs);
        if (dir == null || !Files.isDirectory(dir)) {
            throw new OutputException(target + ": cannot write " + label + ": directory " + abs.getParent() + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new OutputException(target + ": cannot write " + label + ": directory " + dir + " is not writable");
        }
        if (Files.isSymbolicLink(abs)) {
            throw new OutputException(target + ": cannot write " + label + ": it is a symbolic link (give the directory itself)");
        }
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) {
                throw new OutputException(target + ": cannot write " + label + ": it exists and is not a directory");
            }
            if (!isEmpty(abs) && !Files.isRegularFile(abs.resolve(marker), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new OutputException(target + ": cannot write " + label + ": the directory is not empty and holds no " + marker
                        + " (only an earlier output of this kind is replaced)");
            }
            if (!Files.isWritable(abs)) {
                throw new OutputException(target + ": cannot write " + label + ": the directory is read-only");
            }
        }
        outputs.put(target, entry);
    }

    /**
     * The registered temporary directory for the declared directory output {@code target}: fill it
     * (with {@link AtomicFiles#write} or plain writes; it is private until commit), and
     * {@link #commit} renames it into place.
     */
    public Path stageDirectory(Path target) throws IOException {
        Entry e = entry(target);
        if (!e.directory()) {
            throw new IllegalArgumentException(target + " was not declared as a directory output");
        }
        Path tmp = staged.get(target);
        if (tmp == null) {
            tmp = AtomicFiles.createTemporaryDirectory(target);
            staged.put(target, tmp);
        }
        return tmp;
    }

    /** Stages bytes (a report, a JSON file). */
    public void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
    }

    /** Refuses, before the work, an output whose directory has less than {@code bytes} free (special files: no check). */
    public void requireSpace(Path target, double bytes) throws OutputException {
        Entry e = entry(target);
        if (e.special()) {
            return;
        }
        Path dir = realParent(target.toAbsolutePath());
        long free;
        try {
            free = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException ex) {
            return;
        }
        if (free < bytes + 4096) {
            throw new OutputException(String.format(java.util.Locale.ROOT, "%s: cannot write %s: it needs %s of disk but %s has only %s free",
                    target, e.label(), bytes(bytes), dir, bytes(free)));
        }
    }

    /** Stages an array as a float64/float32 {@code .npy} (see {@link NpyFile#write}). */
    public void write(Path target, INDArray array) throws IOException {
        NpyFile.Encoded enc = NpyFile.encode(array);
        write(target, enc::writeTo);
    }

    /** Stages content: written completely to a temporary now (a special file: kept for {@link #commit}). */
    public void write(Path target, AtomicFiles.Content content) throws IOException {
        Entry e = entry(target);
        if (e.special()) {
            deferred.put(target, content);
            return;
        }
        Path tmp = stage(target);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            content.writeTo(ch);
        } catch (IOException ex) {
            throw new IOException(target + ": cannot write " + e.label() + ": " + reason(ex), ex);
        }
    }

    /**
     * A registered temporary for {@code target} that a streaming writer fills (an existing empty
     * file it may truncate or rename over); renamed into place by {@link #commit}. For a special
     * target the temporary lies in the system's temporary directory and is copied in place.
     */
    public Path stage(Path target) throws IOException {
        entry(target);
        Path tmp = staged.get(target);
        if (tmp == null) {
            tmp = AtomicFiles.createTemporary(target);
            staged.put(target, tmp);
        }
        return tmp;
    }

    /** Whether {@code target} is written in place (a device, FIFO, /dev or /proc path). */
    public boolean isSpecial(Path target) throws OutputException {
        return entry(target).special();
    }

    /**
     * Puts every staged output into place: special files first (written in place; they cannot be
     * taken back, so a failing device such as /dev/full stops the commit before any regular file
     * appears), then the regular files, each renamed over its target.
     */
    public void commit() throws IOException {
        for (Map.Entry<Path, AtomicFiles.Content> d : deferred.entrySet()) {
            AtomicFiles.write(d.getKey(), d.getValue());
        }
        List<Path> regular = new ArrayList<>();
        for (Path t : staged.keySet()) {
            if (outputs.get(t).special()) {
                AtomicFiles.commit(staged.get(t), t);
            } else {
                regular.add(t);
            }
        }
        for (Path t : regular) {
            if (outputs.get(t).directory()) {
                AtomicFiles.commitDirectory(staged.get(t), t);
            } else {
                AtomicFiles.commit(staged.get(t), t);
            }
        }
        staged.clear();
        deferred.clear();
        finished = true;
    }

    /** Removes every temporary not committed. */
    @Override
    public void close() {
        for (Path tmp : staged.values()) {
            AtomicFiles.discard(tmp);
        }
        staged.clear();
        deferred.clear();
        finished = true;
    }

    /** Whether nothing is staged (after commit or close, or before any write). */
    public boolean isEmpty() {
        return staged.isEmpty() && deferred.isEmpty();
    }

    private Entry entry(Path target) throws OutputException {
        if (finished) {
            throw new IllegalStateException("output transaction already committed or closed");
        }
        Entry e = outputs.get(target);
        if (e == null) {
            declare(target, "output");
            e = outputs.get(target);
        }
        return e;
    }

    private void checkAgainstOthers(Entry entry) throws OutputException {
        for (Entry e : outputs.values()) {
            if (AtomicFiles.sameFile(e.target(), entry.target())) {
                throw new OutputException(entry.target() + ": " + entry.label() + " and " + e.label() + " name the same file");
            }
            if (e.directory() && inside(e.target(), entry.target()) || entry.directory() && inside(entry.target(), e.target())) {
                Entry dir = e.directory() && inside(e.target(), entry.target()) ? e : entry;
                Entry other = dir == e ? entry : e;
                throw new OutputException(other.target() + ": " + other.label() + " lies inside the output directory " + dir.label() + " ("
                        + dir.target() + "), which is replaced as a whole");
            }
        }
        for (Map.Entry<String, Path> in : inputs.entrySet()) {
            checkNotSame(entry, in.getValue(), in.getKey());
        }
    }

    /** Whether {@code file} is {@code dir} or lies under it (real paths: symlinks and {@code ..} resolved). */
    private static boolean inside(Path dir, Path file) {
        try {
            return AtomicFiles.resolve(file).startsWith(AtomicFiles.resolve(dir));
        } catch (IOException | SecurityException e) {
            return file.toAbsolutePath().normalize().startsWith(dir.toAbsolutePath().normalize());
        }
    }

    private static boolean isEmpty(Path dir) {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static void checkNotSame(Entry out, Path input, String inputLabel) throws OutputException {
        if (out.directory() && inside(out.target(), input)) {
            throw new OutputException(out.target() + ": " + out.label() + " holds the input " + inputLabel + " (" + input
                    + "); refusing to replace a directory with inputs in it");
        }
        if (AtomicFiles.sameFile(out.target(), input)) {
            throw new OutputException(out.target() + ": " + out.label() + " is the input " + inputLabel + " (" + input
                    + "); refusing to overwrite an input");
        }
    }

    private static Path realParent(Path abs) {
        Path dir = abs.normalize().getParent();
        try {
            return dir == null ? null : dir.toRealPath();
        } catch (IOException e) {
            return null;
        }
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String bytes(double b) {
        if (b >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GB", b / (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(java.util.Locale.ROOT, "%.0f MB", b / (1L << 20));
        }
        return String.format(java.util.Locale.ROOT, "%.0f KB", b / 1024.0);
    }
}
