package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Sequential;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer engine's products for image models (conv2d, max/avg pooling, flatten, dense) with a
 * built-in loss, behind {@link LayerProducts}: the base pass once per point ({@link ChainState}),
 * then directions in blocks whose buffers fit {@link LayerProducts#DIRECTION_BUDGET_BYTES}, each
 * block over chunks of samples small enough to stay in cache ({@link #CHUNK_ELEMENTS}), the chunks
 * shared among up to {@link #WORKERS} threads, each with its own workspace
 * ({@link ChainDirections}) with its own loss kernel (they keep scratch arrays) and accumulators, summed at the end (sums in a fixed order: results do
 * not depend on timing). Products are for {@code factor * sum of per-sample losses}.
 */
final class ChainProducts {
    /** Doubles of direction buffers per sample chunk of one worker (4 MB: within the cache of this machine's cores). */
    static final long CHUNK_ELEMENTS = 1L << 19;
    /** Threads sharing the sample chunks. */
    static final int WORKERS = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
    private static final int KEEP = 2;

    private final Sequential model;
    private final Loss loss;
    private final OutputLoss outputLoss;
    private final ModuleChain shape;
    private final Map<Integer, ChainState> states = new LinkedHashMap<>(4, 0.75f, true);
    private ChainDirections[] spaces = new ChainDirections[0];
    private long directionBudget = LayerProducts.DIRECTION_BUDGET_BYTES;
    private long chunkElements = CHUNK_ELEMENTS;

    /** @param loss a built-in loss, or null for the input Jacobians only */
    ChainProducts(Sequential model, Loss loss) {
        this.model = model;
        this.loss = loss;
        this.outputLoss = loss == null ? null : OutputLoss.of(loss);
        this.shape = new ModuleChain(model);
    }

    /** The base state for these inputs (and targets, when given). */
    private ChainState state(INDArray theta, INDArray x, INDArray targets, double factor) {
        model.validate(theta.shape(), x.shape());
        int batch = Math.toIntExact(x.size(0));
        long perSample = Math.max(shape.stateDoublesPerSample(), (long) shape.outWidth() * shape.inPositions * shape.inChannels);
        if ((long) batch * perSample > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a batch of " + batch + " samples of model " + model.describe() + " needs arrays of "
                    + (long) batch * perSample + " elements, more than Java's 2^31 - 9 limit; use smaller batches (--batch-size)");
        }
        ChainState s = states.get(batch);
        if (s == null) {
            s = new ChainState(new ModuleChain(model), batch);
            states.put(batch, s);
            if (states.size() > KEEP) {
                Integer eldest = states.keySet().iterator().next();
                states.remove(eldest).close();
            }
        }
        s.load(theta, x);
        if (targets != null) {
            s.loadTargets(targets, factor);
        }
        return s;
    }

    LayerProducts.Gradient gradient(INDArray theta, INDArray x, INDArray targets, double factor) {
        ChainState s = state(theta, x, targets, factor);
        s.forward(false);
        s.loss(outputLoss);
        s.backward(true);
        return new LayerProducts.Gradient(s.value, Nd4j.create(s.grad.clone(), new long[] {s.grad.length}, DataType.DOUBLE));
    }

    /** {@code H V} ({@code exact}) or {@code G V} for {@code vt [k, N]}. */
    INDArray curvature(INDArray theta, INDArray x, INDArray targets, double factor, INDArray vt, boolean exact) {
        ChainState s = state(theta, x, targets, factor);
        s.forward(exact);
        s.loss(outputLoss);
        if (exact) {
            s.backward(false);
        }
        return overDirections(vt, (v, kc, rows) -> {
            AffineModule.Directions[] dirs = directions(s, v, kc);
            overSamples(s, kc, (w, b0, nb) -> w.curvature(s, dirs, b0, nb, exact));
            collect(s, kc, rows);
        });
    }

    /** {@code sum_i g_i g_i^T V}: per chunk of samples, the per-sample gradients G, then {@code G^T (G V)}. */
    INDArray empiricalFisher(INDArray theta, INDArray x, INDArray targets, double factor, INDArray vt) {
        ChainState s = state(theta, x, targets, factor);
        s.forward(false);
        s.loss(outputLoss);
        s.backward(false);
        int n = shape.parameters;
        return overDirections(vt, (v, kc, rows) -> {
            double[] vT = new double[n * kc];
            for (int j = 0; j < kc; j++) {
                for (int i = 0; i < n; i++) {
                    vT[i * kc + j] = v[j * n + i];
                }
            }
            int nb = (int) Math.max(1, Math.min(s.batch, chunkElements / n));
            double[] g = new double[nb * n];
            double[] u = new double[nb * kc];
            for (int b0 = 0; b0 < s.batch; b0 += nb) {
                int m = Math.min(nb, s.batch - b0);
                perSampleRows(s, b0, m, g);
                ArrayGemm.ab(g, 0, vT, 0, u, 0, m, n, kc, false);
                ArrayGemm.atb(u, 0, g, 0, rows, 0, kc, m, n, true);
            }
        });
    }

    /** Per-sample gradients {@code [B, N]}. */
    INDArray perSampleGradients(INDArray theta, INDArray x, INDArray targets, double factor) {
        ChainState s = state(theta, x, targets, factor);
        s.forward(false);
        s.loss(outputLoss);
        s.backward(false);
        double[] g = new double[s.batch * shape.parameters];
        perSampleRows(s, 0, s.batch, g);
        return Nd4j.create(g, new long[] {s.batch, shape.parameters}, DataType.DOUBLE);
    }

    /** Norms {@code [B]} of the per-sample gradients, one sample's row at a time. */
    INDArray perSampleGradientNorms(INDArray theta, INDArray x, INDArray targets, double factor) {
        ChainState s = state(theta, x, targets, factor);
        s.forward(false);
        s.loss(outputLoss);
        s.backward(false);
        double[] row = new double[shape.parameters];
        double[] norms = new double[s.batch];
        for (int b = 0; b < s.batch; b++) {
            perSampleRows(s, b, 1, row);
            double sq = 0;
            for (double v : row) {
                sq += v * v;
            }
            norms[b] = Math.sqrt(sq);
        }
        return Nd4j.create(norms, new long[] {norms.length}, DataType.DOUBLE);
    }

    /** Per-sample input Jacobians {@code [B, out, C H W]}, inputs in (C, H, W) order. */
    INDArray inputJacobians(INDArray theta, INDArray x) {
        ChainState s = state(theta, x, null, Double.NaN);
        s.forward(false);
        int out = shape.outWidth();
        int in = shape.inPositions * shape.inChannels;
        double[] jac = new double[s.batch * out * in];
        overSamples(s, out, (w, b0, nb) -> w.inputJacobian(s, b0, nb, jac));
        return Nd4j.create(jac, new long[] {s.batch, out, in}, DataType.DOUBLE);
    }

    /**
     * An upper bound of the bytes this path holds for products over {@code rows} samples with blocks
     * of {@code k} directions, besides the caller's inputs and the {@code [k, N]} result: the base
     * state, and per worker its workspace (one chunk of samples, at least one sample) and
     * accumulators, plus a block's direction and row buffers.
     */
    static double workingBytes(Sequential model, long rows, long k) {
        ModuleChain c = new ModuleChain(model);
        long n = c.parameters;
        long perDirection = 8L * (c.directionWidthSum() + 4L * n);
        long block = Math.max(1, Math.min(k, LayerProducts.DIRECTION_BUDGET_BYTES / perDirection));
        double state = 8.0 * rows * c.stateDoublesPerSample() + 8.0 * 2 * n;
        double workspace = 8.0 * Math.max(CHUNK_ELEMENTS, block * c.directionWidthSum()) + 8.0 * 3 * n * block;
        double jacobian = 8.0 * rows * c.outWidth() * c.inPositions * c.inChannels;
        return state + WORKERS * workspace + 8.0 * 4 * n * block + jacobian;
    }

    // ---------------------------------------------------------------- blocks of directions, chunks of samples

    private interface Block {
        void run(double[] v, int kc, double[] rows);
    }

    private interface Chunk {
        void run(ChainDirections w, int b0, int nb);
    }

    /** Directions per block: all k when one sample's buffers for them fit the direction budget. */
    int directionsPerBlock(int k) {
        long perDirection = 8L * (shape.directionWidthSum() + 4L * shape.parameters);
        return (int) Math.max(1, Math.min(k, directionBudget / perDirection));
    }

    void directionBudget(long bytes) {
        directionBudget = bytes;
    }

    /** Sets the doubles of direction buffers per sample chunk (tests use 1 to force one sample per chunk). */
    void chunkElements(long elements) {
        chunkElements = elements;
    }

    private INDArray overDirections(INDArray vt, Block block) {
        int n = shape.parameters;
        if (vt.rank() != 2 || vt.size(1) != n) {
            throw new IllegalArgumentException("directions must be [k, " + n + "], got " + java.util.Arrays.toString(vt.shape()));
        }
        int k = Math.toIntExact(vt.size(0));
        INDArray v = RawAccess.isWholeDouble(vt) && !vt.isView() ? vt : vt.castTo(DataType.DOUBLE).dup('c');
        INDArray out = Nd4j.create(DataType.DOUBLE, new long[] {k, n}, 'c');
        int chunk = directionsPerBlock(k);
        double[] vb = new double[chunk * n];
        double[] rows = new double[chunk * n];
        for (int j0 = 0; j0 < k; j0 += chunk) {
            int kc = Math.min(chunk, k - j0);
            RawAccess.read(v, (long) j0 * n, vb, 0, kc * n);
            java.util.Arrays.fill(rows, 0.0);
            block.run(vb, kc, rows);
            RawAccess.write(out, (long) j0 * n, rows, 0, kc * n);
        }
        return out;
    }

    private static AffineModule.Directions[] directions(ChainState s, double[] v, int kc) {
        ChainModule[] ms = s.chain.modules;
        AffineModule.Directions[] d = new AffineModule.Directions[ms.length];
        for (int l = 0; l < ms.length; l++) {
            if (ms[l] instanceof AffineModule am && !zeroColumns(v, s.chain.parameters, kc, am.offset, am.parameters())) {
                d[l] = am.directions(v, s.chain.parameters, kc);
            }
        }
        return d;
    }

    /** True when columns {@code [from, from + count)} of rows {@code 0..k} of {@code v [k, n]} are all zero. */
    private static boolean zeroColumns(double[] v, int n, int k, int from, int count) {
        for (int j = 0; j < k; j++) {
            for (int i = from; i < from + count; i++) {
                if (v[j * n + i] != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Runs the chunks of samples on the workers (chunk c on worker c mod t), accumulators cleared first. */
    private void overSamples(ChainState s, int k, Chunk chunk) {
        int nb = (int) Math.max(1, Math.min(s.batch, chunkElements / ((long) k * shape.directionWidthSum())));
        int chunks = (s.batch + nb - 1) / nb;
        int t = Math.min(WORKERS, chunks);
        if (spaces.length != t || spaces[0].maxSamples != nb || spaces[0].k != k) {
            spaces = new ChainDirections[t];
            for (int i = 0; i < t; i++) {
                spaces[i] = new ChainDirections(shape, nb, k, loss == null ? null : OutputLoss.of(loss));
            }
        }
        IntStream workers = IntStream.range(0, t);
        (t > 1 ? workers.parallel() : workers).forEach(i -> {
            spaces[i].clear();
            for (int c = i; c < chunks; c += t) {
                int b0 = c * nb;
                chunk.run(spaces[i], b0, Math.min(nb, s.batch - b0));
            }
        });
    }

    /** Sums the workers' accumulators and writes the block's rows {@code [kc, N]}. */
    private void collect(ChainState s, int kc, double[] rows) {
        ChainModule[] ms = s.chain.modules;
        for (int l = 0; l < ms.length; l++) {
            if (ms[l] instanceof AffineModule am) {
                ChainDirections first = spaces[0];
                for (int i = 1; i < spaces.length; i++) {
                    add(first.accW[l], spaces[i].accW[l]);
                    add(first.accB[l], spaces[i].accB[l]);
                    add(first.accCross[l], spaces[i].accCross[l]);
                }
                am.writeRows(first.accW[l], first.accB[l], first.accCross[l], kc, rows, 0, shape.parameters);
            }
        }
    }

    private static void add(double[] into, double[] from) {
        for (int i = 0; i < into.length; i++) {
            into[i] += from[i];
        }
    }

    /** Rows {@code 0..nb} of {@code g [nb, N]}: the gradients of samples {@code b0 .. b0 + nb} (state backward). */
    private void perSampleRows(ChainState s, int b0, int nb, double[] g) {
        int n = shape.parameters;
        java.util.Arrays.fill(g, 0, nb * n, 0.0);
        ChainModule[] ms = s.chain.modules;
        for (int l = 0; l < ms.length; l++) {
            if (ms[l] instanceof AffineModule am) {
                double[] accW = new double[am.patch * am.filters];
                double[] accB = new double[am.filters];
                for (int b = 0; b < nb; b++) {
                    java.util.Arrays.fill(accW, 0.0);
                    java.util.Arrays.fill(accB, 0.0);
                    am.gradient(s.cols[l], (b0 + b) * am.positions * am.patch, s.dz[l], (b0 + b) * am.outWidth(), 1, 1, accW, accB);
                    am.writeRows(accW, accB, null, 1, g, b * n, n);
                }
            }
        }
    }

    void close() {
        for (ChainState s : states.values()) {
            s.close();
        }
        states.clear();
    }
}
