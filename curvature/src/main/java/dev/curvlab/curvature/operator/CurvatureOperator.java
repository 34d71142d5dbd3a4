package dev.curvlab.curvature.operator;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import dev.curvlab.nn.products.ProductEngine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Base of the curvature matrices of a model's loss on a data set, at parameters theta. It owns the
 * data loop and the normalisation: the data are split into batches once; {@code A V} is the sum of
 * one product per batch ({@link #batchProduct}, computed for that batch's summed loss, or its
 * negative log-likelihood) times {@link #scale()}. Subclasses implement the one product and declare
 * what they are ({@link #kind()}); {@link #capabilities()} reports it to consumers, so a new
 * curvature matrix is one class that touches nothing else.
 *
 * <p>Tangent layout: V arrives as {@code [N, k]}; batch products work on the transposed block
 * {@code [k, N]} (k directions through the engine at once) and return {@code [k, N]}.
 */
public abstract class CurvatureOperator extends LinearOperator {
    protected final Sequential model;
    protected final Loss loss;
    protected final INDArray theta;
    protected final long samples;
    private final Reduction reduction;
    private final List<ModelObjective> batches;
    private LayerProducts layers;

    /**
     * @param batchSize samples per batch (memory scales with it); 0 for the whole data set in one batch
     * @param reduction the per-batch reduction: SUM for mean-loss operators, NLL for likelihood operators
     */
    protected CurvatureOperator(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize, Reduction reduction) {
        model.validate(theta.shape(), data.x().shape());
        this.model = model;
        this.loss = loss;
        this.theta = theta.castTo(DataType.DOUBLE);
        this.samples = data.n();
        this.reduction = reduction;
        int n = data.n();
        int b = batchSize <= 0 || batchSize >= n ? n : batchSize;
        List<ModelObjective> list = new ArrayList<>();
        for (int start = 0; start < n; start += b) {
            int end = Math.min(n, start + b);
            Dataset part = b == n ? data : data.rows(start, end);      // rank-generic: [n, d] or images [n, C, H, W]
            list.add(new ModelObjective(model, loss, part.x(), part.y(), reduction));
        }
        this.batches = Collections.unmodifiableList(list);
        this.layers = ProductEngine.AUTO.select(model, loss);
    }

    /**
     * Chooses the engine of the batch products: {@link ProductEngine#AUTO} (the default) uses the
     * layer engine ({@link LayerProducts}) for dense chains with a built-in loss and the generic
     * engine otherwise; {@link ProductEngine#LAYERS} refuses a model or loss it cannot do.
     */
    public CurvatureOperator useEngine(ProductEngine engine) {
        this.layers = engine.select(model, loss);
        return this;
    }

    /** True when the batch products run on the layer engine ({@link LayerProducts}), false on the generic engine. */
    public boolean usesLayerEngine() {
        return layers != null;
    }

    /**
     * The same product as {@link #batchProduct} by the layer engine, {@code [k, N]} for {@code vt: [k, N]},
     * or null where this operator has none (the generic engine then computes it).
     */
    protected INDArray layerProduct(LayerProducts engine, ModelObjective batch, INDArray vt) {
        return null;
    }

    @Override
    public long size() {
        return theta.length();
    }

    /** The factor applied to the sum of batch products (e.g. {@link #meanScale()} for the mean loss). */
    protected abstract double scale();

    /** Which curvature matrix this is; {@link CurvatureKind#OTHER} unless the subclass says. */
    protected CurvatureKind kind() {
        return CurvatureKind.OTHER;
    }

    /**
     * Kind, symmetry, the scale relative to the summed loss (this operator's {@link #scale()} times
     * the batches' reduction scale, {@link Loss#scale}) and whether the structured method applies.
     */
    @Override
    public OperatorCapabilities capabilities() {
        CurvatureKind kind = kind();
        double lossScale = scale() * loss.scale(reduction, batches.get(0).samples(), model.outputSize());
        return new OperatorCapabilities(kind, isSymmetric(), lossScale, kind.hasStructuredForm());
    }

    /** This operator's product for one batch: {@code [k, N]} for directions {@code vt: [k, N]}. */
    protected abstract Tensor batchProduct(ModelObjective batch, Tensor theta, Tensor vt);

    @Override
    protected INDArray apply(INDArray v) {
        INDArray vt = v.transpose().dup('c');
        Tensor th = Tensor.of(theta);
        Tensor vtt = Tensor.of(vt);
        INDArray acc = null;
        for (ModelObjective b : batches) {
            INDArray fast = layers == null ? null : layerProduct(layers, b, vt);
            INDArray part = fast != null ? fast : ArrayScope.run(() -> batchProduct(b, th, vtt)).array();
            if (acc == null) {
                acc = part.dup('c');
            } else {
                acc.addi(part);
            }
        }
        return acc.transpose().dup('c').muli(scale());
    }

    /** The scale of the mean loss over the whole data set, {@code 1 / Z} (Z = n for ce, n*out for mse, ...). */
    protected double meanScale() {
        return loss.scale(Reduction.MEAN, samples, model.outputSize());
    }

    /** The reduction each batch's loss uses; {@code A = scale() * sum over batches}. */
    public Reduction batchReduction() {
        return reduction;
    }

    /**
     * The factor on the sum of batch products, {@link #scale()}.
     *
     * @deprecated one name for one thing: read {@code capabilities().lossScale()} (relative to the
     *     summed loss), or {@link #scale()} in a subclass
     */
    @Deprecated
    public double normalization() {
        return scale();
    }

    public Sequential model() {
        return model;
    }

    public Loss loss() {
        return loss;
    }

    /** The parameters theta {@code [N]}. */
    public INDArray parameters() {
        return theta;
    }

    public List<ModelObjective> batches() {
        return batches;
    }
}
