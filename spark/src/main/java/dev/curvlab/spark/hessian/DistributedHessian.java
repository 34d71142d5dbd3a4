package dev.curvlab.spark.hessian;

import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.StructuredHessian;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.spark.data.HadoopFiles;
import dev.curvlab.spark.data.InvalidDataException;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.operator.ModelBroadcast;
import dev.curvlab.spark.operator.OperatorKind;
import dev.curvlab.spark.operator.TaskThreads;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dense curvature matrix computed as row bands, one Spark task per band, each band written to
 * {@code band-XXXXX.npy} in an output directory through Hadoop's FileSystem API (local disk, HDFS,
 * S3 alike), described by {@code manifest.json} ({@link BandManifest}).
 *
 * <p>Rows of the matrix are independent given the data, so every task holds the whole data set (a
 * broadcast) and computes its rows with the single-machine code: the structured method's rows of one
 * layer ({@link StructuredHessian#layerRows}) where the model and kind qualify, else a blocked band
 * {@code (A E_J)^T} of {@code A}'s products with the identity columns J. A task writes its band to a
 * temporary name and renames it, and skips a band whose file exists, so tasks are idempotent: Spark's
 * retries, speculative copies and a rerun after a failed or killed job only fill in missing bands,
 * and since each band is a deterministic function of the inputs, the result is bit-identical. The
 * manifest's fingerprint guards a directory against being resumed with other inputs.
 */
public final class DistributedHessian {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedHessian.class);

    private DistributedHessian() {
    }

    /**
     * Settings, an immutable record (the project's options convention): {@link #defaults()} and
     * {@code with*} copies. {@code bandRows} 0 chooses the band height from N and the parallelism;
     * {@code batchSize} 0 multiplies all of a partition's samples at once.
     */
    public record Options(HessianMethod method, int bandRows, int batchSize, BandHook hook) implements Serializable {
        public Options {
            if (method == null || hook == null) {
                throw new IllegalArgumentException("method and hook must not be null");
            }
            if (method == HessianMethod.ROWLOOP) {
                throw new IllegalArgumentException("distributed bands are structured or blocked, not rowloop");
            }
            if (bandRows < 0) {
                throw new IllegalArgumentException("band rows must be >= 0, got " + bandRows);
            }
        }

        /** AUTO method, bands from N and the parallelism, all samples at once, no hook. */
        public static Options defaults() {
            return new Options(HessianMethod.AUTO, 0, 0, BandHook.NONE);
        }

        /** AUTO (structured where it applies), STRUCTURED (layer bands) or BLOCKED. */
        public Options withMethod(HessianMethod m) {
            return new Options(m, bandRows, batchSize, hook);
        }

        /** Rows per band for the blocked method (0: from N and the parallelism). */
        public Options withBandRows(int rows) {
            return new Options(method, rows, batchSize, hook);
        }

        /** Samples per batch inside a band's products (0: all at once). */
        public Options withBatchSize(int b) {
            return new Options(method, bandRows, b, hook);
        }

        /** Called around each band (tests use it to inject failures). */
        public Options withHook(BandHook h) {
            return new Options(method, bandRows, batchSize, h);
        }
    }

    /** The outcome: the directory, its manifest, and how many bands this run computed and found done. */
    public record Result(String directory, BandManifest manifest, int computed, int skipped, double seconds) {
    }

    /**
     * Computes the missing bands of {@code kind}'s dense matrix into {@code dir} (created if needed).
     *
     * @throws InvalidDataException when {@code dir} holds bands of a different problem
     */
    public static Result compute(JavaSparkContext sc, Shard data, OperatorKind kind, ModelSpec spec, INDArray theta, String dir, Options o)
            throws IOException {
        long t0 = System.nanoTime();
        long n = theta.length();
        spec.model().validate(theta.shape(), new long[] {Math.max(1, data.rows()), data.inputs()});
        HessianMethod method = resolve(kind, spec.model().isDenseChain(), o.method());
        List<BandManifest.Band> bands = method == HessianMethod.STRUCTURED ? layerBands(spec) : rowBands(n, o.bandRows(), sc.defaultParallelism());
        ModelBroadcast mb = new ModelBroadcast(spec, theta, o.batchSize(), TaskThreads.perTask(sc));
        String fingerprint = BandFingerprint.of(kind.id(), method.name(), o.batchSize(), bands, mb.modelJson(), theta.castTo(DataType.DOUBLE)
                .dup('c').data().asDouble(), data);
        BandManifest manifest = new BandManifest(BandManifest.FORMAT, kind.id(), n, method.name().toLowerCase(Locale.ROOT), o.batchSize(),
                fingerprint, bands, false);
        prepareDirectory(dir, manifest);

        Broadcast<ModelBroadcast> model = sc.broadcast(mb);
        Broadcast<Shard> rows = sc.broadcast(data);
        List<Boolean> computed;
        try {
            String run = UUID.randomUUID().toString().substring(0, 8);
            BandHook hook = o.hook();
            computed = sc.parallelize(bands, bands.size())
                    .map(b -> bandTask(kind, method, model.value(), rows.value(), b, dir, hook, run))
                    .collect();
        } finally {
            model.destroy();
            rows.destroy();
        }
        int done = (int) computed.stream().filter(c -> c).count();
        for (BandManifest.Band b : bands) {
            if (!HadoopFiles.exists(HadoopFiles.child(dir, b.file()))) {
                throw new IllegalStateException(dir + ": band " + b.file() + " is missing after the job");
            }
        }
        BandManifest complete = manifest.withComplete(true);
        HadoopFiles.writeText(HadoopFiles.child(dir, BandManifest.FILE), complete.toJson(), "driver");
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.info("{}: N = {} in {} bands by {}: {} computed, {} already done, {} s", kind.title(), n, bands.size(), manifest.method(), done,
                bands.size() - done, String.format(Locale.ROOT, "%.3f", seconds));
        return new Result(dir, complete, done, bands.size() - done, seconds);
    }

    /** STRUCTURED where the kind and model qualify (AUTO), checked when asked for explicitly. */
    static HessianMethod resolve(OperatorKind kind, boolean denseChain, HessianMethod asked) {
        if (asked == HessianMethod.STRUCTURED && !(kind.structured() && denseChain)) {
            throw new IllegalArgumentException("the structured method needs the Hessian, GGN or observed Fisher of a chain of dense layers; got the "
                    + kind.title() + (denseChain ? "" : " of a model with other layers") + " (use --method blocked)");
        }
        return asked == HessianMethod.AUTO ? (kind.structured() && denseChain ? HessianMethod.STRUCTURED : HessianMethod.BLOCKED) : asked;
    }

    /** One band per layer: its parameters' rows. */
    static List<BandManifest.Band> layerBands(ModelSpec spec) {
        List<BandManifest.Band> out = new ArrayList<>();
        long start = 0;
        List<Dense> layers = spec.model().layers();
        for (int k = 0; k < layers.size(); k++) {
            long end = start + layers.get(k).parameterCount();
            out.add(new BandManifest.Band(k, start, end, BandManifest.Band.fileName(k)));
            start = end;
        }
        return out;
    }

    /** Bands of {@code rows} rows (0: about four bands per task slot, at most 512 rows and 64 MB each). */
    static List<BandManifest.Band> rowBands(long n, int rows, int parallelism) {
        long b = rows > 0 ? rows : Math.max(1, Math.min(Math.min(512, (64L << 20) / (8 * n)), (n + 4L * parallelism - 1) / (4L * parallelism)));
        List<BandManifest.Band> out = new ArrayList<>();
        for (long start = 0; start < n; start += b) {
            int i = out.size();
            out.add(new BandManifest.Band(i, start, Math.min(n, start + b), BandManifest.Band.fileName(i)));
        }
        return out;
    }

    /** Starts a directory with an incomplete manifest, or checks that its manifest is this problem's; removes stale temporary files. */
    static void prepareDirectory(String dir, BandManifest manifest) throws IOException {
        HadoopFiles.mkdirs(dir);
        String path = HadoopFiles.child(dir, BandManifest.FILE);
        String existing = HadoopFiles.readText(path);
        if (existing != null) {
            BandManifest old = BandManifest.parse(existing, path);
            if (!old.fingerprint().equals(manifest.fingerprint()) || !old.bands().equals(manifest.bands())) {
                throw new InvalidDataException(dir + ": holds the bands of a different problem (" + old.matrix() + ", N = " + old.n() + ", "
                        + old.method() + ", fingerprint " + old.fingerprint().substring(0, 12) + "); use another directory or delete it");
            }
            LOG.info("{}: resuming ({} bands)", dir, old.bands().size());
        } else {
            for (String name : HadoopFiles.list(dir)) {
                if (name.startsWith("band-")) {
                    throw new InvalidDataException(dir + ": has band files but no " + BandManifest.FILE + "; use another directory or delete it");
                }
            }
            HadoopFiles.writeText(path, manifest.toJson(), "driver");
        }
        for (String name : HadoopFiles.list(dir)) {
            if (name.startsWith(".band-") && name.endsWith(".tmp")) {
                HadoopFiles.delete(HadoopFiles.child(dir, name));
            }
        }
    }

    /** On an executor: computes and writes one band unless its file exists; true when it computed it. */
    static boolean bandTask(OperatorKind kind, HessianMethod method, ModelBroadcast m, Shard data, BandManifest.Band band, String dir,
            BandHook hook, String run) throws Exception {
        String file = HadoopFiles.child(dir, band.file());
        if (HadoopFiles.exists(file)) {
            return false;
        }
        m.prepareExecutor();
        CurvatureOperator op = kind.build(m.model(), m.loss(), data.toDataset(), m.theta(), m.batchSize());
        INDArray rows = method == HessianMethod.STRUCTURED ? StructuredHessian.layerRows(op, band.index()) : blockedRows(op, band);
        hook.beforeWrite(band.index());
        TaskContext tc = TaskContext.get();
        String attempt = run + "-" + (tc != null ? tc.taskAttemptId() : 0);
        HadoopFiles.writeNpyIfAbsent(file, rows, attempt);
        return true;
    }

    /** Rows J of a symmetric operator's matrix: {@code (A E_J)^T}, as the single-machine blocked method computes them. */
    static INDArray blockedRows(CurvatureOperator op, BandManifest.Band band) {
        long n = op.size();
        long k = band.rows();
        INDArray e = Nd4j.zeros(DataType.DOUBLE, n, k);
        e.get(NDArrayIndex.interval(band.start(), band.end()), NDArrayIndex.all()).assign(Nd4j.eye(k).castTo(DataType.DOUBLE));
        return op.matmat(e).transpose().dup('c');
    }
}
