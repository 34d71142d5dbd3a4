package dev.curvlab.spark.cli;

import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.spark.data.HadoopFiles;
import dev.curvlab.spark.hessian.DistributedHessian;
import dev.curvlab.spark.hessian.HessianBands;
import dev.curvlab.spark.operator.OperatorKind;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Option;

/**
 * Base of the dense-matrix commands: the matrix as row bands, one Spark task each
 * ({@link DistributedHessian}), in {@code --out-dir} (resumable: rerun the same command) and/or
 * assembled into one {@code --out} file (bands then go to {@code FILE.bands/}, removed once the file
 * is complete).
 */
abstract class DenseCommand extends SparkSubcommand {
    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the whole matrix [N, N] (float64 .npy), assembled from the bands")
    Path out;

    @Option(names = "--out-dir", order = 31, paramLabel = "DIR", description = "keep the bands band-XXXXX.npy and manifest.json here (local, hdfs://, s3a://); a rerun completes missing bands")
    String outDir;

    @Option(names = "--method", order = 20, paramLabel = "M", defaultValue = "auto", description = "auto, structured (one band per layer) or blocked (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--band-rows", order = 21, paramLabel = "R", defaultValue = "0", description = "rows per band for blocked; 0 = automatic (default: ${DEFAULT-VALUE})")
    int bandRows;

    @Option(names = "--max-memory", order = 22, paramLabel = "SIZE", description = "driver memory budget for matrices it holds whole, e.g. 12G (default: 75%% of physical memory)")
    String maxMemory;

    HessianMethod parsedMethod;
    MemoryBudget budget;

    /** The matrix this command computes. */
    protected abstract OperatorKind kind();

    /** False where the command has another output (fisher --se), so neither --out nor --out-dir is needed. */
    protected boolean needsMatrixOutput() {
        return true;
    }

    @Override
    protected void checkOptions() {
        if (out == null && outDir == null && needsMatrixOutput()) {
            throw usage("give --out FILE (the whole matrix) and/or --out-dir DIR (its bands)");
        }
        checkWritable(out, "--out");
        try {
            parsedMethod = HessianMethod.parse(method);
        } catch (IllegalArgumentException e) {
            throw usage("--method: " + e.getMessage());
        }
        if (parsedMethod == HessianMethod.ROWLOOP) {
            throw usage("--method rowloop is not distributed; use structured or blocked");
        }
        if (bandRows < 0) {
            throw usage("--band-rows must be >= 0, got " + bandRows);
        }
        try {
            budget = maxMemory == null ? MemoryBudget.defaultBudget() : MemoryBudget.parse(maxMemory);
        } catch (RuntimeException e) {
            throw usage("cannot read memory size '" + maxMemory + "' (examples: 512M, 12G)");
        }
    }

    /** Computes the bands and, with --out, writes the assembled matrix; returns the bands. */
    protected HessianBands computeBands(JavaSparkContext sc, SparkProblem p) throws Exception {
        long n = p.parameterCount();
        if (out != null) {
            double bytes = 8.0 * n * n;
            long free = MemoryBudget.usableDisk(out.toAbsolutePath().getParent());
            if (free < bytes) {
                throw new dev.curvlab.spark.data.InvalidDataException(String.format("%s: the %d x %d matrix needs %s of disk but only %s is free",
                        out, n, n, MemoryBudget.format(bytes), MemoryBudget.format(free)));
            }
        }
        String dir = outDir != null ? outDir : out.toAbsolutePath() + ".bands";
        DistributedHessian.Options o = DistributedHessian.Options.defaults().withMethod(parsedMethod).withBandRows(bandRows).withBatchSize(p.batchSize());
        DistributedHessian.Result r = DistributedHessian.compute(sc, p.data().collect(), kind(), p.spec(), p.theta(), dir, o);
        HessianBands bands = HessianBands.open(dir);
        out().println(String.format(Locale.ROOT, "%s: N = %d, %d bands by %s (%d computed, %d already done), %.3f s", spec.name(), n,
                r.manifest().bands().size(), r.manifest().method(), r.computed(), r.skipped(), r.seconds()));
        if (outDir != null) {
            out().println("wrote " + dir + "/" + " (" + r.manifest().bands().size() + " bands, manifest.json)");
        }
        return bands;
    }

    /** Writes --out from the bands (if asked), then removes bands that were only a means to it. */
    protected void finish(HessianBands bands) throws Exception {
        if (out != null) {
            bands.assemble(out);
            out().println("wrote " + out + " [" + bands.size() + ", " + bands.size() + "]");
            if (outDir == null) {
                HadoopFiles.deleteRecursively(out.toAbsolutePath() + ".bands");
            }
        }
    }

    @Override
    protected void run(JavaSparkContext sc, SparkProblem p) throws Exception {
        finish(computeBands(sc, p));
    }
}
