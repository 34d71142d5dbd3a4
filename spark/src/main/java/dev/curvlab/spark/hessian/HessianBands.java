package dev.curvlab.spark.hessian;

import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.nn.io.NpyMatrixWriter;
import dev.curvlab.spark.data.HadoopFiles;
import dev.curvlab.spark.data.InvalidDataException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Reads a banded matrix written by {@link DistributedHessian}: any row range (reading only the bands
 * it overlaps), the whole matrix in memory when it fits the memory budget, or assembled into one
 * {@code .npy} file band by band (the file gets its name only when complete).
 */
public final class HessianBands {
    private final String dir;
    private final BandManifest manifest;

    private HessianBands(String dir, BandManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    /**
     * Opens a complete banded matrix.
     *
     * @throws InvalidDataException when there is no manifest, or it is incomplete (a job that did not finish: rerun it)
     */
    public static HessianBands open(String dir) throws IOException {
        String path = HadoopFiles.child(dir, BandManifest.FILE);
        String json = HadoopFiles.readText(path);
        if (json == null) {
            throw new InvalidDataException(dir + ": no " + BandManifest.FILE + " (not a directory of Hessian bands)");
        }
        BandManifest m;
        try {
            m = BandManifest.parse(json, path);
        } catch (IllegalArgumentException e) {
            throw new InvalidDataException(e.getMessage(), e);
        }
        if (!m.complete()) {
            throw new InvalidDataException(dir + ": the bands are incomplete (the job did not finish); rerun the same command to complete them");
        }
        return new HessianBands(dir, m);
    }

    public BandManifest manifest() {
        return manifest;
    }

    /** N. */
    public long size() {
        return manifest.n();
    }

    /** Rows {@code [start, end)}, {@code [end - start, N]}. */
    public INDArray rows(long start, long end) throws IOException {
        long n = manifest.n();
        if (start < 0 || end > n || start >= end) {
            throw new InvalidDataException("rows [" + start + ", " + end + ") are out of range for N = " + n);
        }
        INDArray out = Nd4j.zeros(DataType.DOUBLE, end - start, n);
        for (BandManifest.Band b : manifest.bands()) {
            long from = Math.max(start, b.start());
            long to = Math.min(end, b.end());
            if (from >= to) {
                continue;
            }
            INDArray band = band(b);
            out.get(NDArrayIndex.interval(from - start, to - start), NDArrayIndex.all())
                    .assign(band.get(NDArrayIndex.interval(from - b.start(), to - b.start()), NDArrayIndex.all()));
        }
        return out;
    }

    /** One band's rows, checked against the manifest. */
    public INDArray band(BandManifest.Band b) throws IOException {
        String file = HadoopFiles.child(dir, b.file());
        INDArray a;
        try {
            a = HadoopFiles.readNpy(file);
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new InvalidDataException(file + ": band file missing; rerun the command that wrote " + dir + " to recompute it", e);
        }
        if (a.rank() != 2 || a.size(0) != b.rows() || a.size(1) != manifest.n()) {
            throw new InvalidDataException(file + ": has shape " + Arrays.toString(a.shape()) + " but the manifest says [" + b.rows() + ", "
                    + manifest.n() + "]");
        }
        return a;
    }

    /** The whole matrix in memory, if {@code N^2 x 8} bytes fit {@code budget}. */
    public INDArray matrix(MemoryBudget budget) throws IOException {
        double bytes = 8.0 * size() * size();
        if (bytes > budget.bytes()) {
            throw new InvalidDataException(String.format("%s: the %d x %d matrix needs %s, more than the %s memory budget; read row ranges"
                    + " or assemble it into a file", dir, size(), size(), MemoryBudget.format(bytes), MemoryBudget.format(budget.bytes())));
        }
        return rows(0, size());
    }

    /**
     * Writes the whole matrix to one {@code .npy} file, band by band (memory: one band), if the disk
     * has room; by way of {@code FILE.partial}, renamed when complete.
     */
    public Path assemble(Path out) throws IOException {
        Path target = out.toAbsolutePath();
        double bytes = 8.0 * size() * size();
        long free = MemoryBudget.usableDisk(target.getParent());
        if (free < bytes) {
            throw new InvalidDataException(String.format("%s: the %d x %d matrix needs %s of disk but %s has %s free", out, size(), size(),
                    MemoryBudget.format(bytes), target.getParent(), MemoryBudget.format(free)));
        }
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        boolean done = false;
        try (NpyMatrixWriter w = NpyMatrixWriter.create(partial, size(), size())) {
            for (BandManifest.Band b : manifest.bands()) {
                w.writeRows(b.start(), band(b));
            }
            w.flush();
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(partial);
            }
        }
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }
}
