package dev.curvlab.spark.operator;

import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.KfacVariant;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Likelihood;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.data.ShardedData;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * KFAC factors, and the kron Laplace evidence built on them, over a data set held as Spark partitions.
 * Each executor runs {@link Kfac#compute} on its partition's rows, whose factors are those of the
 * partition's own mean loss: {@code A_p = (1/n_p) sum a~ a~^T} and {@code G_p} carrying {@code 1/Z_p}
 * ({@code Z = loss.normalizer(n, outputs)}). Rescaled on the executor to {@code (n_p/n) A_p} and
 * {@code (Z_p/Z) G_p}, flattened into one array and added by the same {@code treeAggregate} as the
 * operators ({@link SumAggregation#add}), they are the single-machine factors of the whole data set.
 * <p>
 * MC labels are drawn per partition with the seed {@code seed + 0xD1B54A32D192ED03 (p + 1)}: the draw
 * is reproducible for a fixed partitioning, but not the single machine's draw. EKFAC is refused: its
 * diagonal needs a second pass in the combined eigenbases, which this class does not make.
 */
public final class DistributedKfac {
    private static final double[] NOTHING = new double[0];
    private static final long PARTITION_SEED_STEP = 0xD1B54A32D192ED03L;

    private DistributedKfac() {
    }

    /** The factors of all layers for the mean loss over {@code data}. */
    public static KfacFactors compute(JavaSparkContext sc, ShardedData data, ModelSpec spec, INDArray theta, Kfac.Options o) {
        return compute(sc, data, spec, theta, o, 0);
    }

    /** The factors of layers {@code first..L-1} (index 0 of the result is layer {@code first}). */
    public static KfacFactors compute(JavaSparkContext sc, ShardedData data, ModelSpec spec, INDArray theta, Kfac.Options o, int first) {
        return pass(sc, data, spec, theta, o, first, false).factors();
    }

    /**
     * The kron Laplace approximation ({@code o.structure()} kron): exact factors of the covered layers
     * and the log-likelihood's summed loss and constant, all in one pass over the partitions; its
     * {@link Laplace#logMarginalLikelihood} is the single machine's evidence.
     */
    public static Laplace kronLaplace(JavaSparkContext sc, ShardedData data, ModelSpec spec, INDArray theta, Laplace.Options o) {
        int first = o.subset().firstLayer(spec.model().layers().size());
        Pass p = pass(sc, data, spec, theta, Kfac.Options.exact(), first, true);
        Likelihood likelihood = new Likelihood(spec.loss(), data.samples(), spec.model().outputSize(), p.summedLoss(), p.constant());
        return Laplace.ofKron(spec.model(), theta, likelihood, p.factors(), o);
    }

    private record Pass(KfacFactors factors, double summedLoss, double constant) {
    }

    private static Pass pass(JavaSparkContext sc, ShardedData data, ModelSpec spec, INDArray theta, Kfac.Options o, int first,
            boolean likelihood) {
        if (o.ekfac()) {
            throw new IllegalArgumentException("--ekfac is not available on Spark (its diagonal needs a second pass in the combined"
                    + " eigenbases); use plain KFAC, or the single-machine curvlab for EKFAC");
        }
        Sequential model = spec.model();
        model.validate(theta.shape(), new long[] {1, data.inputs()});
        List<Dense> layers = model.layers();
        if (first < 0 || first >= layers.size()) {
            throw new IllegalArgumentException("first layer must be in 0.." + (layers.size() - 1) + ", got " + first);
        }
        int length = (likelihood ? 2 : 0);
        for (int l = first; l < layers.size(); l++) {
            length += (layers.get(l).in() + 1) * (layers.get(l).in() + 1) + layers.get(l).out() * layers.get(l).out();
        }
        long n = data.samples();
        KfacVariant variant = o.variant();     // Kfac.Options is not Serializable: the task closure carries its fields
        int samples = o.samples();
        long seed = o.seed();
        Broadcast<ModelBroadcast> m = sc.broadcast(new ModelBroadcast(spec, theta, 0, TaskThreads.perTask(sc)));
        try {
            double[] total = data.shards()
                    .mapPartitionsWithIndex((index, it) -> partition(m.value(), it, index, n, new Kfac.Options(variant, samples, seed, false), first, likelihood), true)
                    .treeAggregate(NOTHING, SumAggregation::add, SumAggregation::add, 2);
            if (total.length == 0) {
                total = new double[length];
            }
            return unflatten(total, layers, first, o.variant(), likelihood);
        } finally {
            m.destroy();
        }
    }

    /** On an executor: the partition's rescaled factors, flattened ({@code A_l, G_l} per layer, then loss sum and constant). */
    private static Iterator<double[]> partition(ModelBroadcast m, Iterator<Shard> it, int index, long n, Kfac.Options o, int first,
            boolean likelihood) {
        List<double[]> out = new ArrayList<>();
        while (it.hasNext()) {
            Shard s = it.next();
            if (s.rows() > 0) {
                out.add(flattened(m, s.toDataset(), index, n, o, first, likelihood));
            }
        }
        return out.iterator();
    }

    private static double[] flattened(ModelBroadcast m, Dataset d, int index, long n, Kfac.Options o, int first, boolean likelihood) {
        m.prepareExecutor();
        Sequential model = m.model();
        Loss loss = m.loss();
        long outputs = model.outputSize();
        Kfac.Options local = new Kfac.Options(o.variant(), o.samples(), o.seed() + PARTITION_SEED_STEP * (index + 1), false);
        KfacFactors f = Kfac.compute(model, loss, d, m.theta(), local, first, ProgressListener.NONE);
        double aWeight = (double) d.n() / n;
        double gWeight = (double) loss.normalizer(d.n(), outputs) / loss.normalizer(n, outputs);
        List<double[]> parts = new ArrayList<>();
        int length = 0;
        for (int l = 0; l < f.layers(); l++) {
            double[] a = scaled(f.a().get(l), aWeight);
            double[] g = scaled(f.g().get(l), gWeight);
            parts.add(a);
            parts.add(g);
            length += a.length + g.length;
        }
        if (likelihood) {
            INDArray y = loss.prepare(d.y(), outputs).array();
            parts.add(new double[] {new ModelObjective(model, loss, d.x(), d.y(), Reduction.SUM).value(m.theta()),
                    Likelihood.constantOf(loss, RawAccess.readAll(y.dup('c')), d.n(), outputs)});
            length += 2;
        }
        double[] flat = new double[length];
        int off = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, flat, off, p.length);
            off += p.length;
        }
        return flat;
    }

    private static double[] scaled(INDArray x, double w) {
        double[] v = x.dup('c').data().asDouble();
        for (int i = 0; i < v.length; i++) {
            v[i] *= w;
        }
        return v;
    }

    private static Pass unflatten(double[] total, List<Dense> layers, int first, KfacVariant variant, boolean likelihood) {
        List<INDArray> a = new ArrayList<>();
        List<INDArray> g = new ArrayList<>();
        int off = 0;
        for (int l = first; l < layers.size(); l++) {
            int in = layers.get(l).in() + 1;
            int out = layers.get(l).out();
            a.add(matrix(total, off, in));
            off += in * in;
            g.add(matrix(total, off, out));
            off += out * out;
        }
        KfacFactors f = new KfacFactors(variant, a, g, null, null);
        return likelihood ? new Pass(f, total[off], total[off + 1]) : new Pass(f, 0, 0);
    }

    private static INDArray matrix(double[] flat, int off, int size) {
        double[] v = java.util.Arrays.copyOfRange(flat, off, off + size * size);
        return Nd4j.create(v, new long[] {size, size}, 'c').castTo(DataType.DOUBLE);
    }
}
