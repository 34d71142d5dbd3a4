package dev.curvlab.curvature.hessian;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.curvlab.core.NativeSettings;
import dev.curvlab.nn.io.AtomicFiles;
import dev.curvlab.nn.io.NpyMatrixWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * Checkpoint of a dense Hessian under construction: a directory holding the partial matrix
 * ({@code hessian.partial.npy}, rows written band by band) and {@code progress.json}.
 *
 * <h2>Format (version 2)</h2>
 * {@code {"format": "curvlab-hessian-checkpoint", "version": 2, "n": N, "method": "BLOCKED",
 * "blockSize": k, "fingerprint": "<sha-256 of the problem>", "settings": {...}, "done": rows,
 * "bands": [[start, end, "crc32c"], ...]}}. The fingerprint covers everything the matrix depends
 * on (operator kind, architecture, loss, parameters, data, batching; {@link Fingerprint}); the
 * settings everything that can change its bits besides ({@link #settings()}: curvlab and ND4J
 * versions, BLAS and elementwise threads, Java and CPU architecture); each finished band of rows
 * carries a CRC-32C of its bytes in the matrix file. The progress file is replaced atomically
 * ({@link AtomicFiles}) after the band's rows are forced to disk, so it never claims more than the
 * file holds.
 *
 * <h2>Resuming</h2>
 * {@link #resume} checks every field (format, version, types, {@code 0 <= done <= N}, bands
 * contiguous from row 0 to {@code done}, each band's size, block size and method equal to this
 * run's, matrix file of exactly {@code [N, N]}), the fingerprint and the settings, and every band's
 * checksum against the file; any mismatch is refused with one line naming the checkpoint and what
 * differs ({@link CheckpointException}), never resumed with other bits. Checkpoints are kept when a
 * run is interrupted (also by SIGINT/SIGTERM) and cleared when it completes.
 */
public final class HessianCheckpoint {
    /** The format name in {@code progress.json}. */
    public static final String FORMAT = "curvlab-hessian-checkpoint";
    /** The format version written and accepted. */
    public static final int VERSION = 2;
    private static final long MAX_PROGRESS_BYTES = 256L << 20;

    /** A checkpoint that cannot be resumed by this run; the message is one line. */
    public static final class CheckpointException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        CheckpointException(String message) {
            super(message);
        }
    }

    /** A finished band of rows {@code [start, end)} and the CRC-32C of its bytes. */
    public record Band(long start, long end, long crc) {
    }

    /** What a run resumes from: rows {@code [0, done)} are complete. */
    public record State(long n, int blockSize, String method, String fingerprint, long done, List<Band> bands) {
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private final Path dir;
    private State state;

    public HessianCheckpoint(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    public Path matrixFile() {
        return dir.resolve("hessian.partial.npy");
    }

    Path progressFile() {
        return dir.resolve("progress.json");
    }

    /**
     * The checkpoint to continue, validated against this run; empty when the directory holds none
     * (a fresh start, which then records progress with {@link #bandDone}).
     *
     * @param blockSize this run's rows per band for the blocked methods (0 for structured: bands are layers)
     * @throws CheckpointException when it is corrupt or belongs to another problem or settings
     */
    public Optional<State> resume(long n, String method, int blockSize, Supplier<String> fingerprint) throws IOException {
        Path p = progressFile();
        boolean hasMatrix = Files.exists(matrixFile(), LinkOption.NOFOLLOW_LINKS);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            state = new State(n, blockSize, method, fingerprint.get(), 0, new ArrayList<>());
            return Optional.empty();
        }
        State s = parse(p, n, method, blockSize, fingerprint);
        if (!hasMatrix) {
            throw refuse("progress.json records " + s.done() + " rows but hessian.partial.npy is missing");
        }
        verifyMatrix(s);
        state = s;
        return Optional.of(s);
    }

    /**
     * Records that rows {@code [start, end)} are complete in {@link #matrixFile()} (already forced
     * to disk): checksums them from the file and replaces the progress file atomically.
     */
    public void bandDone(long start, long end) throws IOException {
        if (state == null) {
            throw new IllegalStateException("resume() must be called before bandDone()");
        }
        List<Band> bands = new ArrayList<>(state.bands());
        while (!bands.isEmpty() && bands.get(bands.size() - 1).end() > start) {
            bands.remove(bands.size() - 1);          // a band recomputed from an earlier row
        }
        long from = bands.isEmpty() ? 0 : bands.get(bands.size() - 1).end();
        if (from != start) {
            throw new IllegalStateException("band [" + start + ", " + end + ") does not follow row " + from);
        }
        try (FileChannel ch = FileChannel.open(matrixFile(), StandardOpenOption.READ)) {
            bands.add(new Band(start, end, crc(ch, state.n(), start, end)));
        }
        state = new State(state.n(), state.blockSize(), state.method(), state.fingerprint(), end, bands);
        AtomicFiles.write(progressFile(), toJson(state).getBytes(StandardCharsets.UTF_8));
    }

    /** Removes the progress file and partial matrix after a completed run has been moved to its destination. */
    public void clear() throws IOException {
        Files.deleteIfExists(progressFile());
        Files.deleteIfExists(matrixFile());
    }

    /** Everything besides the problem that can change the matrix's bits. */
    static Map<String, String> settings() {
        Map<String, String> m = new TreeMap<>();
        m.put("curvlab", String.valueOf(version(HessianCheckpoint.class)));
        m.put("nd4j", String.valueOf(version(org.nd4j.linalg.factory.Nd4j.class)));
        m.put("blasThreads", String.valueOf(blasThreads()));
        m.put("elementwiseThreads", String.valueOf(elementwiseThreads()));
        m.put("java", System.getProperty("java.specification.version"));
        m.put("arch", System.getProperty("os.arch"));
        return m;
    }

    private static String version(Class<?> c) {
        String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static int blasThreads() {
        try {
            return NativeSettings.blasThreads();
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }

    private static int elementwiseThreads() {
        try {
            return org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }

    private String toJson(State s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("n", s.n());
        o.put("method", s.method());
        o.put("blockSize", s.blockSize());
        o.put("fingerprint", s.fingerprint());
        ObjectNode set = o.putObject("settings");
        settings().forEach(set::put);
        o.put("done", s.done());
        ArrayNode bands = o.putArray("bands");
        for (Band b : s.bands()) {
            bands.addArray().add(b.start()).add(b.end()).add(String.format("%08x", b.crc()));
        }
        return o.toString();
    }

    private State parse(Path p, long n, String method, int blockSize, Supplier<String> fingerprint) throws IOException {
        JsonNode o;
        try {
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) > MAX_PROGRESS_BYTES) {
                throw refuse("progress.json is not a regular file of at most 256 MB");
            }
            o = JSON.readTree(Files.readAllBytes(p));
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw refuse("progress.json is not valid JSON (" + String.valueOf(e.getMessage()).split("\n")[0] + ")");
        }
        if (o == null || !o.isObject()) {
            throw refuse("progress.json is not a JSON object");
        }
        if (!FORMAT.equals(text(o, "format", false))) {
            throw refuse("progress.json is not a curvlab Hessian checkpoint of format version " + VERSION
                    + " (written by an older curvlab?)");
        }
        integer(o, "version", VERSION, VERSION);
        long savedN = integer(o, "n", 1, Long.MAX_VALUE);
        if (savedN != n) {
            throw refuse("it belongs to a different problem (N = " + savedN + ", this problem has N = " + n + ")");
        }
        if (!text(o, "fingerprint", true).equals(fingerprint.get())) {
            throw refuse("it belongs to a different problem (model, parameters, data, loss or --batch-size differ)");
        }
        String savedMethod = text(o, "method", true);
        if (!savedMethod.equals(method)) {
            throw refuse("it was written by --method " + savedMethod.toLowerCase() + ", this run uses --method " + method.toLowerCase());
        }
        long savedBlock = integer(o, "blockSize", 0, n);
        if (savedBlock != blockSize) {
            throw refuse("it was written with blocks of " + savedBlock + " columns, this run uses " + blockSize
                    + " (pass --block " + savedBlock + " and the same --max-memory to resume)");
        }
        JsonNode set = o.get("settings");
        if (set == null || !set.isObject()) {
            throw refuse("field 'settings' is missing or not an object");
        }
        for (Map.Entry<String, String> e : settings().entrySet()) {
            JsonNode v = set.get(e.getKey());
            if (v == null || !v.isTextual() || !v.asText().equals(e.getValue())) {
                throw refuse("it was written with " + e.getKey() + " = " + (v == null ? "(none)" : v.asText()) + ", this run has "
                        + e.getValue() + (e.getKey().endsWith("Threads") ? " (use the same --threads to resume)" : "")
                        + "; the result would not be bit-identical");
            }
        }
        long done = integer(o, "done", 0, n);
        List<Band> bands = bands(o, n, blockSize, done);
        return new State(n, blockSize, method, fingerprint.get(), done, bands);
    }

    private List<Band> bands(JsonNode o, long n, int blockSize, long done) throws CheckpointException {
        JsonNode arr = o.get("bands");
        if (arr == null || !arr.isArray()) {
            throw refuse("field 'bands' is missing or not an array");
        }
        List<Band> bands = new ArrayList<>();
        long next = 0;
        for (int i = 0; i < arr.size(); i++) {
            JsonNode b = arr.get(i);
            if (!b.isArray() || b.size() != 3 || !b.get(0).canConvertToLong() || !b.get(1).canConvertToLong() || !b.get(2).isTextual()
                    || !b.get(0).isIntegralNumber() || !b.get(1).isIntegralNumber()) {
                throw refuse("bands[" + i + "] is not [start, end, \"crc32c\"]");
            }
            long start = b.get(0).asLong();
            long end = b.get(1).asLong();
            if (start != next || end <= start || end > n) {
                throw refuse("bands[" + i + "] = [" + start + ", " + end + ") does not continue row " + next + " within N = " + n);
            }
            if (blockSize > 0 && end - start != blockSize && end != n) {
                throw refuse("bands[" + i + "] has " + (end - start) + " rows, not the block size " + blockSize);
            }
            long crc;
            try {
                crc = Long.parseLong(b.get(2).asText(), 16);
            } catch (NumberFormatException e) {
                throw refuse("bands[" + i + "] has no valid checksum");
            }
            if (crc < 0 || crc > 0xffffffffL) {
                throw refuse("bands[" + i + "] has no valid checksum");
            }
            bands.add(new Band(start, end, crc));
            next = end;
        }
        if (next != done) {
            throw refuse("'done' = " + done + " but the recorded bands end at row " + next);
        }
        return bands;
    }

    private void verifyMatrix(State s) throws IOException {
        Path m = matrixFile();
        if (!Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) {
            throw refuse("hessian.partial.npy is not a regular file");
        }
        try (NpyMatrixWriter w = NpyMatrixWriter.openExisting(m)) {
            if (w.rows() != s.n() || w.cols() != s.n()) {
                throw refuse("hessian.partial.npy is [" + w.rows() + ", " + w.cols() + "], not [" + s.n() + ", " + s.n() + "]");
            }
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw refuse("hessian.partial.npy is not a matrix file (" + String.valueOf(e.getMessage()).split("\n")[0] + ")");
        }
        try (FileChannel ch = FileChannel.open(m, StandardOpenOption.READ)) {
            for (Band b : s.bands()) {
                if (crc(ch, s.n(), b.start(), b.end()) != b.crc()) {
                    throw refuse("rows [" + b.start() + ", " + b.end() + ") of hessian.partial.npy do not match their checksum"
                            + " (the file was changed or damaged)");
                }
            }
        }
    }

    /** CRC-32C of the bytes of rows {@code [start, end)} of the {@code [n, n]} float64 matrix file. */
    private static long crc(FileChannel ch, long n, long start, long end) throws IOException {
        long dataOffset = ch.size() - 8 * n * n;
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long pos = dataOffset + 8 * n * start;
        long stop = dataOffset + 8 * n * end;
        while (pos < stop) {
            buf.clear().limit((int) Math.min(buf.capacity(), stop - pos));
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("hessian.partial.npy: unexpected end of file");
            }
            buf.flip();
            crc.update(buf);
            pos += r;
        }
        return crc.getValue();
    }

    private String text(JsonNode o, String field, boolean required) throws CheckpointException {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            if (!required) {
                return null;
            }
            throw refuse("field '" + field + "' is missing or not a string");
        }
        return v.asText();
    }

    private long integer(JsonNode o, String field, long min, long max) throws CheckpointException {
        JsonNode v = o.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw refuse("field '" + field + "' must be an integer in " + min + ".." + max + ", got " + (v == null ? "nothing" : abbreviate(v.toString())));
        }
        return v.asLong();
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private CheckpointException refuse(String why) {
        return new CheckpointException("checkpoint " + dir + " cannot be resumed: " + why
                + "; use another --checkpoint directory or delete this one to start over");
    }
}
