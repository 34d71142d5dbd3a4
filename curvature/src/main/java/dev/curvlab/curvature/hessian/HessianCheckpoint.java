package dev.curvlab.curvature.hessian;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Checkpoint of a dense Hessian under construction: a directory holding the partial matrix
 * ({@code hessian.partial.npy}, rows written as blocks complete) and {@code progress.json} (size,
 * block size, method, a fingerprint of the problem, rows done). The progress file is replaced
 * atomically after each block's rows are flushed, so after an interruption it never claims more
 * than the matrix holds; a resumed run with the same fingerprint continues with the same blocks and
 * produces the identical matrix.
 */
public final class HessianCheckpoint {
    /** The recorded state. {@code done}: rows [0, done) are complete. */
    public record State(long n, int blockSize, String method, String fingerprint, long done, int threads) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;

    public HessianCheckpoint(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    public Path matrixFile() {
        return dir.resolve("hessian.partial.npy");
    }

    private Path progressFile() {
        return dir.resolve("progress.json");
    }

    /** The saved state, if any; a corrupt progress file is an error naming the file. */
    public Optional<State> load() throws IOException {
        Path p = progressFile();
        if (!Files.exists(p)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(p.toFile(), State.class));
        } catch (IOException e) {
            throw new IOException(p + ": corrupt checkpoint progress file (" + e.getMessage().split("\n")[0]
                    + "); delete the checkpoint directory to start over", e);
        }
    }

    /** Atomically replaces the progress file. */
    public void save(State s) throws IOException {
        Path tmp = dir.resolve("progress.json.tmp");
        JSON.writeValue(tmp.toFile(), s);
        try {
            Files.move(tmp, progressFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            Files.move(tmp, progressFile(), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Removes the progress file and partial matrix after a completed run has been moved to its destination. */
    public void clear() throws IOException {
        Files.deleteIfExists(progressFile());
        Files.deleteIfExists(matrixFile());
    }
}
