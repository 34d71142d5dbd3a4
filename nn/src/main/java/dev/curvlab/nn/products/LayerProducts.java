package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gradients and curvature products of a dense chain with a built-in loss, layer by layer on
 * preallocated buffers: a few large GEMMs per layer plus Java loops for the elementwise work, where
 * the generic engine issues one ND4J call per primitive. Products (all for the loss summed over the
 * batch, times a factor; {@link ModelObjective} overloads take the factor from the reduction):
 * <ul>
 * <li>{@link #gradient}: value and gradient (forward, backward);</li>
 * <li>{@link #hessianProduct}: {@code H V} for a block of k directions, exact (Pearlmutter's R-operator
 *     forward and backward, see {@link DirectionPass});</li>
 * <li>{@link #ggnProduct}: {@code J^T H_out J V};</li>
 * <li>{@link #empiricalFisherProduct}: {@code sum_i g_i g_i^T V} without forming the g_i;</li>
 * <li>{@link #perSampleGradients} {@code [B, N]} and {@link #perSampleGradientNorms} {@code [B]} ({@link PerSampleGradients}).</li>
 * </ul>
 * Workspaces are kept per batch size (and per batch size and block of directions), the two most
 * recent of each, and reused across calls; the forward and backward passes at the last point
 * (theta, inputs, targets, factor: compared by value) are reused by the next product there, as in
 * every Lanczos or Hutch++ iteration. Directions go through in chunks that keep the direction
 * buffers under {@link #DIRECTION_BUDGET_BYTES}. Methods are synchronized: an engine may be shared
 * by threads, which then take turns (give each thread its own engine to run them in parallel).
 * Results are new arrays the caller owns.
 *
 * <p>Image models (conv2d, max/avg pooling, flatten, dense) go to the module-chain path
 * ({@link ChainProducts}: the same products module by module, conv via im2col); every public
 * product routes there when the model is not a dense chain. {@link #inputJacobians} serves both.
 */
public final class LayerProducts {
    /** Memory for the direction buffers of one chunk of directions. */
    public static final long DIRECTION_BUDGET_BYTES = 256L << 20;
    private static final int KEEP = 2;

    private final LayerShapes shapes;
    private final OutputLoss outputLoss;
    private final Loss loss;
    private final Sequential model;
    private ChainProducts chain;
    private final Map<Integer, BatchPass> passes = lru();
    private final Map<Long, DirectionPass> directions = lru();
    private long directionBudget = DIRECTION_BUDGET_BYTES;

    /** @throws IllegalArgumentException when the engine does not apply ({@link #unsupportedReason}) */
    public LayerProducts(Sequential model, Loss loss) {
        String why = unsupportedReason(model, loss);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        this.model = model;
        this.loss = loss;
        this.outputLoss = OutputLoss.of(loss);
        this.shapes = isDenseChain(model) ? new LayerShapes(model, loss) : null;
        this.chain = shapes == null ? new ChainProducts(model, loss) : null;
    }

    /** True when this engine computes products for the model and loss (a dense chain or an image model, and a built-in loss). */
    public static boolean supports(Sequential model, Loss loss) {
        return unsupportedReason(model, loss) == null;
    }

    /** Why the engine does not apply, or null when it does. */
    public static String unsupportedReason(Sequential model, Loss loss) {
        String chainWhy = isDenseChain(model) ? null : ModuleChain.unsupportedReason(model);
        if (chainWhy != null) {
            return "the layer engine needs a chain of dense layers or an image model (conv2d, pooling, flatten, dense): " + chainWhy;
        }
        if (OutputLoss.of(loss) == null) {
            return "the layer engine has closed-form derivatives for the built-in losses only, not '" + loss.name() + "'";
        }
        if (model.parameterCount() > Integer.MAX_VALUE - 8) {
            return "the layer engine handles at most 2^31 parameters";
        }
        return null;
    }

    /** The single test for the model side: a chain of dense layers (no conv, pooling or flatten). */
    static boolean isDenseChain(Sequential model) {
        return model.isDenseChain();
    }

    /** Value and gradient {@code [N]} of {@code factor * sum of per-sample losses}. */
    public record Gradient(double value, INDArray gradient) {
    }

    /** The objective's value and gradient (its reduction gives the factor). */
    public Gradient gradient(ModelObjective objective, INDArray theta) {
        return gradient(theta, objective.x().array(), objective.preparedTargets().array(), factor(objective));
    }

    public synchronized Gradient gradient(INDArray theta, INDArray x, INDArray targets, double factor) {
        if (shapes == null) {
            return chain.gradient(theta, x, targets, factor);
        }
        BatchPass pass = pass(theta, x, targets, factor);
        pass.forward(outputLoss, false);
        pass.backward(true);
        return new Gradient(pass.value, pass.gradientCopy());
    }

    /**
     * The objective's value, with its gradient written into {@code into: [N]} (a whole C-order
     * float64 array that the caller reuses, e.g. once per training step: no allocation here).
     */
    public synchronized double gradientInto(ModelObjective objective, INDArray theta, INDArray into) {
        int n = Math.toIntExact(model.parameterCount());
        if (!RawAccess.isWholeDouble(into) || into.length() != n) {
            throw new IllegalArgumentException("the gradient buffer must be a whole C-order float64 array of " + n + " elements, got "
                    + into.dataType() + " " + java.util.Arrays.toString(into.shape()));
        }
        if (shapes == null) {
            Gradient g = gradient(objective, theta);
            into.assign(g.gradient());
            return g.value();
        }
        BatchPass pass = pass(theta, objective.x().array(), objective.preparedTargets().array(), factor(objective));
        pass.forward(outputLoss, false);
        pass.backward(true);
        pass.gradientInto(into);
        return pass.value;
    }

    /** {@code H V} for directions {@code vt: [k, N]}, returned {@code [k, N]}. */
    public INDArray hessianProduct(ModelObjective objective, INDArray theta, INDArray vt) {
        return hessianProduct(theta, objective.x().array(), objective.preparedTargets().array(), factor(objective), vt);
    }

    public synchronized INDArray hessianProduct(INDArray theta, INDArray x, INDArray targets, double factor, INDArray vt) {
        if (shapes == null) {
            return chain.curvature(theta, x, targets, factor, vt, true);
        }
        BatchPass pass = pass(theta, x, targets, factor);
        pass.forward(outputLoss, true);
        pass.backward(false);
        return overDirections(pass, vt, (d, out) -> d.curvatureProduct(pass, outputLoss, true, out));
    }

    /** {@code G V = J^T H_out J V} for directions {@code vt: [k, N]}, returned {@code [k, N]}. */
    public INDArray ggnProduct(ModelObjective objective, INDArray theta, INDArray vt) {
        return ggnProduct(theta, objective.x().array(), objective.preparedTargets().array(), factor(objective), vt);
    }

    public synchronized INDArray ggnProduct(INDArray theta, INDArray x, INDArray targets, double factor, INDArray vt) {
        if (shapes == null) {
            return chain.curvature(theta, x, targets, factor, vt, false);
        }
        BatchPass pass = pass(theta, x, targets, factor);
        pass.forward(outputLoss, false);
        return overDirections(pass, vt, (d, out) -> d.curvatureProduct(pass, outputLoss, false, out));
    }

    /** {@code sum_i g_i g_i^T V} with {@code g_i} the gradient of sample i's loss (times factor). */
    public INDArray empiricalFisherProduct(ModelObjective objective, INDArray theta, INDArray vt) {
        return empiricalFisherProduct(theta, objective.x().array(), objective.preparedTargets().array(), factor(objective), vt);
    }

    public synchronized INDArray empiricalFisherProduct(INDArray theta, INDArray x, INDArray targets, double factor, INDArray vt) {
        if (shapes == null) {
            return chain.empiricalFisher(theta, x, targets, factor, vt);
        }
        BatchPass pass = pass(theta, x, targets, factor);
        pass.forward(outputLoss, false);
        pass.backward(false);
        return overDirections(pass, vt, (d, out) -> d.empiricalFisherProduct(pass, out));
    }

    /** Per-sample gradients {@code [B, N]}: row i is the gradient of sample i's loss (times factor). */
    public synchronized INDArray perSampleGradients(INDArray theta, INDArray x, INDArray targets, double factor) {
        if (shapes == null) {
            return chain.perSampleGradients(theta, x, targets, factor);
        }
        BatchPass pass = pass(theta, x, targets, factor);
        pass.forward(outputLoss, false);
        pass.backward(false);
        return PerSampleGradients.rows(pass);
    }

    /** Euclidean norms {@code [B]} of the per-sample gradients, without forming them: {@code |g_i|^2 = sum_l |a_l,i|^2 |dz_l,i|^2}. */
    public synchronized INDArray perSampleGradientNorms(INDArray theta, INDArray x, INDArray targets, double factor) {
        if (shapes == null) {
            return chain.perSampleGradientNorms(theta, x, targets, factor);
        }
        BatchPass pass = pass(theta, x, targets, factor);
        pass.forward(outputLoss, false);
        pass.backward(false);
        return PerSampleGradients.norms(pass);
    }

    /**
     * Per-sample Jacobians {@code [B, out, in]} of the network outputs w.r.t. its inputs,
     * {@code J[i, a, b] = d f_a(x_i) / d x_ib}, inputs of image models in (C, H, W) order: the out
     * unit cotangents of every sample pulled back through the modules at once (no loss involved).
     */
    public synchronized INDArray inputJacobians(INDArray theta, INDArray x) {
        if (chain == null) {
            chain = new ChainProducts(model, loss);
        }
        return chain.inputJacobians(theta, x);
    }

    /** The factor on the summed loss for an objective's reduction: 1 (SUM), nllPerSum (NLL), 1/normalizer (MEAN). */
    public double factor(ModelObjective objective) {
        Reduction r = objective.reduction();
        return switch (r) {
            case SUM -> 1.0;
            case NLL -> loss.nllPerSum();
            case MEAN -> 1.0 / loss.normalizer(objective.samples(), model.outputSize());
        };
    }

    public Sequential model() {
        return model;
    }

    public Loss loss() {
        return loss;
    }

    // ---------------------------------------------------------------- workspaces

    /** One chunk's product into {@code out: [kc, N]} (heap rows), the chunk's directions loaded in {@code d}. */
    private interface ChunkProduct {
        void run(DirectionPass d, double[] out);
    }

    private BatchPass pass(INDArray theta, INDArray x, INDArray targets, double factor) {
        model.validate(theta.shape(), x.shape());
        int batch = Math.toIntExact(x.size(0));
        BatchPass pass = passes.get(batch);
        if (pass == null) {
            pass = new BatchPass(shapes, batch);
            passes.put(batch, pass);
        }
        pass.load(theta, x, targets, factor);
        return pass;
    }

    private INDArray overDirections(BatchPass pass, INDArray vt, ChunkProduct product) {
        int n = shapes.parameters();
        if (vt.rank() != 2 || vt.size(1) != n) {
            throw new IllegalArgumentException("directions must be [k, " + n + "], got " + java.util.Arrays.toString(vt.shape()));
        }
        int k = Math.toIntExact(vt.size(0));
        INDArray v = vt.dataType() == DataType.DOUBLE && vt.ordering() == 'c' && vt.offset() == 0 && !vt.isView() ? vt
                : vt.castTo(DataType.DOUBLE).dup('c');
        INDArray out = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {k, n}, 'c');   // every element written below
        int chunk = chunk(pass.batch, k);
        for (int j0 = 0; j0 < k; j0 += chunk) {
            int kc = Math.min(chunk, k - j0);
            DirectionPass d = directionPass(pass.batch, kc);
            RawAccess.read(v, (long) j0 * n, d.directionRows, 0, kc * n);
            d.loadDirections(d.directionRows);
            product.run(d, d.productRows);
            RawAccess.write(out, (long) j0 * n, d.productRows, 0, kc * n);
        }
        return out;
    }

    /** Directions per chunk: all k when their buffers fit {@link #DIRECTION_BUDGET_BYTES}. */
    int chunk(int batch, int k) {
        return (int) Math.max(1, Math.min(k, directionBudget / bytesPerDirection(shapes.widths(), batch)));
    }

    /**
     * Bytes one direction adds to a workspace for a batch of {@code batch} rows through a chain of
     * {@code widths} ({@code [in_0, out_0, ..., out_{L-1}]}): exactly what the workspace allocates
     * per direction ({@link DirectionPass#doublesPerDirection}); a block of k directions holds
     * {@code max(1, min(k, DIRECTION_BUDGET_BYTES / bytesPerDirection))} of them at once.
     */
    static long bytesPerDirection(long[] widths, long batch) {
        return 8L * DirectionPass.doublesPerDirection(widths, batch);
    }

    /**
     * An upper bound of the bytes the engine holds for one product (or the input Jacobians) over
     * {@code rows} samples with a block of {@code k} directions, besides the caller's inputs and the
     * {@code [k, N]} result: for dense chains one batch pass ({@code 4 N + 12 rows widths} doubles,
     * widths summed over the input and every layer) and one chunk of direction buffers
     * ({@link #bytesPerDirection} each, within {@link #DIRECTION_BUDGET_BYTES}, and one
     * {@code [width, rows]} scratch); for image models the module-chain path's state, workspaces and
     * accumulators.
     */
    public static double workingBytes(Sequential model, long rows, long k) {
        long n = model.parameterCount();
        if (!isDenseChain(model)) {
            return ChainProducts.workingBytes(model, rows, k);
        }
        long[] widths = LayerShapes.widths(model);
        long widthSum = 0;
        for (long w : widths) {
            widthSum += w;
        }
        double one = bytesPerDirection(widths, rows);
        double chunk = Math.max(one, Math.min(k * one, DIRECTION_BUDGET_BYTES)) + 8.0 * DirectionPass.fixedDoubles(widths, rows);
        return 8.0 * 4 * n + 8.0 * 12 * rows * widthSum + chunk;
    }

    /** True when {@link #inputJacobians(Sequential, INDArray, INDArray)} applies (dense chains and image models the engine takes). */
    public static boolean supportsInputJacobians(Sequential model) {
        return isDenseChain(model) || ModuleChain.unsupportedReason(model) == null;
    }

    /** An upper bound of the bytes {@link #inputJacobians(Sequential, INDArray, INDArray)} holds for {@code rows} samples besides its {@code [B, out, in]} result. */
    public static double inputJacobianBytes(Sequential model, long rows) {
        return ChainProducts.workingBytes(model, rows, model.outputSize());
    }

    /** Per-sample input Jacobians {@code [B, out, in]} of a model (no loss needed); see {@link #inputJacobians(INDArray, INDArray)}. */
    public static INDArray inputJacobians(Sequential model, INDArray theta, INDArray x) {
        ChainProducts c = new ChainProducts(model, null);
        try {
            return c.inputJacobians(theta, x);
        } finally {
            c.close();
        }
    }

    /** Sets the memory for one chunk of direction buffers (tests use a small one to force chunking). */
    synchronized void directionBudget(long bytes) {
        directionBudget = bytes;
        if (chain != null) {
            chain.directionBudget(bytes);
        }
    }

    private DirectionPass directionPass(int batch, int k) {
        long key = ((long) batch << 32) | k;
        DirectionPass d = directions.get(key);
        if (d == null) {
            d = new DirectionPass(shapes, batch, k);
            directions.put(key, d);
        }
        return d;
    }

    /** The {@link #KEEP} most recently used workspaces; older ones free their native buffers. */
    private static <K, V extends AutoCloseable> Map<K, V> lru() {
        return new LinkedHashMap<>(4, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                if (size() <= KEEP) {
                    return false;
                }
                try {
                    eldest.getValue().close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return true;
            }
        };
    }
}
