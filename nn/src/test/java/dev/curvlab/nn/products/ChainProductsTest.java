package dev.curvlab.nn.products;

import static dev.curvlab.nn.products.LayerProductsTest.assertRelClose;
import static dev.curvlab.nn.products.LayerProductsTest.gaussian;
import static dev.curvlab.nn.products.LayerProductsTest.genericGgn;
import static dev.curvlab.nn.products.LayerProductsTest.genericGradient;
import static dev.curvlab.nn.products.LayerProductsTest.genericHvp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Init;
import dev.curvlab.nn.model.Sequential;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer engine on image models (module-chain path) against the generic engine (the oracle:
 * core autodiff through {@code Ops.conv2d}, pooling and flatten on the same model), to
 * {@link dev.curvlab.core.check.Tolerances#EXACT} relative to the largest entry: gradient and value,
 * HVP (SUM and NLL reductions), GGN-vector product, per-sample gradients and norms, empirical-Fisher
 * product (against {@code V G^T G} from the oracle's per-sample gradients), and input Jacobians
 * (against {@link Rowwise#jacobian} of the generic forward pass). CNNs cover stride, padding, max and
 * average pooling, two conv layers, tanh/relu/sigmoid, ce/mse/bce, B = 1, 2, 7 and k = 1, 3, 16.
 */
class ChainProductsTest {

    /** conv 3x3 p1 (tanh) - maxpool 2x2 - flatten - dense: the digits network's shape, on [1, 6, 6]. */
    static Sequential digitsLike(int out) {
        return Sequential.imageBuilder(1, 6, 6).conv2d(3, new int[] {3, 3}, null, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, null).flatten().dense(out, Activation.IDENTITY).build();
    }

    /** conv 3x3 stride 2 (relu) - avgpool 2x2 stride 1 - conv 2x2 (sigmoid) - flatten - dense (tanh) - dense, on [2, 9, 8]. */
    static Sequential strided(int out) {
        return Sequential.imageBuilder(2, 9, 8).conv2d(4, new int[] {3, 3}, new int[] {2, 2}, null, Activation.RELU)
                .avgPool2d(new int[] {2, 2}, new int[] {1, 1}).conv2d(3, new int[] {2, 2}, null, null, Activation.SIGMOID).flatten()
                .dense(5, Activation.TANH).dense(out, Activation.IDENTITY).build();
    }

    /** Two padded conv layers (tanh, relu) with max pooling between, stride 1x2, then flatten - dense, on [3, 7, 7]. */
    static Sequential twoConv(int out) {
        return Sequential.imageBuilder(3, 7, 7).conv2d(4, new int[] {2, 3}, new int[] {1, 2}, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, new int[] {1, 1}).conv2d(2, new int[] {3, 2}, null, new int[] {0, 1}, Activation.RELU)
                .flatten().dense(out, Activation.IDENTITY).build();
    }

    static LayerProductsTest.Case imageCase(Random rnd, Sequential model, Loss loss, int batch) {
        INDArray theta = model.initialParameters(Init.XAVIER, rnd.nextLong()).addi(gaussian(rnd, 0.1, model.parameterCount()));
        long[] in = model.inputShape();
        INDArray x = gaussian(rnd, 1.0, batch, in[0], in[1], in[2]);
        INDArray y = LayerProductsTest.randomTargets(rnd, loss, batch, model.outputSize());
        return new LayerProductsTest.Case(loss.name() + " " + model.describe() + " B=" + batch, model, loss, theta, x, y);
    }

    @Test
    void digitsLikeCnnWithCrossEntropyMatchesTheGenericEngine() {
        Random rnd = new Random(21);
        LayerProductsTest.checkAll(imageCase(rnd, digitsLike(4), Losses.CROSS_ENTROPY, 1), 1, rnd);
        LayerProductsTest.checkAll(imageCase(rnd, digitsLike(4), Losses.CROSS_ENTROPY, 7), 16, rnd);
    }

    @Test
    void stridedCnnWithAveragePoolingAndMseMatchesTheGenericEngine() {
        Random rnd = new Random(22);
        LayerProductsTest.checkAll(imageCase(rnd, strided(3), Losses.MSE, 2), 3, rnd);
    }

    @Test
    void twoConvLayersWithBceMatchTheGenericEngine() {
        Random rnd = new Random(23);
        LayerProductsTest.checkAll(imageCase(rnd, twoConv(2), Losses.BCE, 7), 16, rnd);
        LayerProductsTest.checkAll(imageCase(rnd, twoConv(3), Losses.CROSS_ENTROPY, 2), 3, rnd);
    }

    @Test
    void chunksOfSamplesOnTwoWorkersAndBlocksOfOneDirectionGiveTheSameProducts() {
        Random rnd = new Random(24);
        LayerProductsTest.Case tc = imageCase(rnd, twoConv(3), Losses.CROSS_ENTROPY, 40);
        ChainProducts engine = new ChainProducts(tc.model(), tc.loss());
        engine.chunkElements(1);      // one sample per chunk: 40 chunks shared by the workers (each with its own loss scratch)
        engine.directionBudget(1);    // one direction per block
        ModelObjective sum = tc.objective(Reduction.SUM);
        INDArray y = sum.preparedTargets().array();
        INDArray vt = gaussian(rnd, 1.0, 5, tc.model().parameterCount());
        assertEquals(1, engine.directionsPerBlock(5));
        assertRelClose("HVP in chunks", engine.curvature(tc.theta(), tc.x(), y, 1.0, vt, true), genericHvp(sum, tc.theta(), vt));
        assertRelClose("GGN in chunks", engine.curvature(tc.theta(), tc.x(), y, 1.0, vt, false), genericGgn(sum, tc.theta(), vt));
        assertRelClose("gradient", engine.gradient(tc.theta(), tc.x(), y, 1.0).gradient(), genericGradient(sum, tc.theta()));
        assertRelClose("input Jacobians in chunks", engine.inputJacobians(tc.theta(), tc.x()), genericInputJacobians(tc.model(), tc.theta(), tc.x()));
    }

    @Test
    void unitDirectionsOfSingleLayersSkipZeroTangentsExactly() {
        Random rnd = new Random(26);
        LayerProductsTest.Case tc = imageCase(rnd, twoConv(3), Losses.CROSS_ENTROPY, 2);
        LayerProducts engine = new LayerProducts(tc.model(), tc.loss());
        ModelObjective sum = tc.objective(Reduction.SUM);
        long n = tc.model().parameterCount();
        long[] layer2 = tc.model().parameterRange(2);
        long[] dense = tc.model().parameterRange(4);
        // unit vectors inside the second conv layer, inside the dense layer, and the two together (first conv layer untouched)
        for (long[] cols : new long[][] {{layer2[0], layer2[0] + 5}, {dense[1] - 4, dense[1]}, {layer2[1] - 2, dense[0] + 2}}) {
            int k = (int) (cols[1] - cols[0]);
            INDArray vt = Nd4j.zeros(DataType.DOUBLE, k, n);
            for (int j = 0; j < k; j++) {
                vt.putScalar(j, cols[0] + j, 1.0);
            }
            assertRelClose("Hessian columns " + cols[0] + ".." + cols[1], engine.hessianProduct(sum, tc.theta(), vt), genericHvp(sum, tc.theta(), vt));
            assertRelClose("GGN columns " + cols[0] + ".." + cols[1], engine.ggnProduct(sum, tc.theta(), vt), genericGgn(sum, tc.theta(), vt));
        }
    }

    @Test
    void inputJacobiansMatchTheGenericEngineForCnnsAndDenseChains() {
        Random rnd = new Random(25);
        for (Sequential model : new Sequential[] {digitsLike(10), strided(2), twoConv(3)}) {
            LayerProductsTest.Case tc = imageCase(rnd, model, Losses.MSE, 3);
            LayerProducts engine = new LayerProducts(model, Losses.MSE);
            assertRelClose(tc.name() + " input Jacobians", engine.inputJacobians(tc.theta(), tc.x()),
                    genericInputJacobians(model, tc.theta(), tc.x()));
        }
        Sequential mlp = Sequential.mlp(new int[] {5, 7, 3}, Activation.GELU);
        INDArray theta = mlp.initialParameters(3);
        INDArray x = gaussian(rnd, 1.0, 4, 5);
        LayerProducts engine = new LayerProducts(mlp, Losses.MSE);
        assertRelClose("dense chain input Jacobians", engine.inputJacobians(theta, x), genericInputJacobians(mlp, theta, x));
        INDArray hv = gaussian(rnd, 1.0, 2, mlp.parameterCount());
        ModelObjective obj = new ModelObjective(mlp, Losses.MSE, x, gaussian(rnd, 1.0, 4, 3), Reduction.SUM);
        assertRelClose("dense chain HVP after a Jacobian", engine.hessianProduct(obj, theta, hv), genericHvp(obj, theta, hv));
    }

    @Test
    void imageModelsAreSupportedAndOversizedBatchesAreOneClearError() {
        assertTrue(LayerProducts.supports(strided(2), Losses.MSE));
        assertTrue(LayerProducts.unsupportedReason(twoConv(2), Losses.CROSS_ENTROPY) == null);
        Sequential wide = Sequential.imageBuilder(1, 64, 64).conv2d(64, new int[] {5, 5}, null, new int[] {2, 2}, Activation.TANH).flatten()
                .dense(2, Activation.IDENTITY).build();
        LayerProducts engine = new LayerProducts(wide, Losses.MSE);
        INDArray x = Nd4j.zeros(DataType.DOUBLE, 1000, 1, 64, 64);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> engine.gradient(wide.initialParameters(1), x, Nd4j.zeros(DataType.DOUBLE, 1000, 2), 1.0));
        assertTrue(e.getMessage().contains("use smaller batches"), e.getMessage());
    }

    /** The generic engine's per-sample Jacobians {@code [B, out, C H W]} of the forward pass. */
    static INDArray genericInputJacobians(Sequential model, INDArray theta, INDArray x) {
        INDArray flat = x.reshape('c', new long[] {x.size(0), x.length() / x.size(0)});
        Tensor th = Tensor.of(theta);
        return Rowwise.jacobian(z -> model.forward(th, z)).apply(Tensor.of(flat)).array();
    }
}
