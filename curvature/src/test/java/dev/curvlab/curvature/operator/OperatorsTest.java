package dev.curvlab.curvature.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.FiniteDifferences;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Init;
import dev.curvlab.nn.model.Sequential;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

class OperatorsTest {
    static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape);
    }

    static void assertClose(String what, INDArray actual, INDArray expected, double tol) {
        assertTrue(Comparison.close(actual, expected, tol), () -> Comparison.describe(what, actual, expected, tol));
    }

    static Dataset classification(long seed, int n, int d, int classes) {
        double[] cls = new double[n];
        for (int i = 0; i < n; i++) {
            cls[i] = i % classes;
        }
        return new Dataset(randn(seed, n, d), Nd4j.create(cls, new long[] {n}, DataType.DOUBLE));
    }

    /** Operators declare what they are (issue 10): kind, symmetry, scale relative to the summed loss, structured form. */
    @Test
    void operatorsDeclareTheirCapabilities() {
        Sequential m = Sequential.mlp(new int[] {3, 4, 2}, Activation.TANH);
        Dataset d = new Dataset(randn(1, 5, 3), randn(2, 5, 2));
        INDArray theta = m.initialParameters(3);
        double mean = 1.0 / (5 * 2);
        assertEquals(new OperatorCapabilities(CurvatureKind.HESSIAN, true, mean, true),
                new HessianOperator(m, Losses.MSE, d, theta, 2).capabilities());
        assertEquals(new OperatorCapabilities(CurvatureKind.GGN, true, mean, true), new GgnOperator(m, Losses.MSE, d, theta, 0).capabilities());
        assertEquals(new OperatorCapabilities(CurvatureKind.EMPIRICAL_FISHER, true, mean, false),
                new EmpiricalFisherOperator(m, Losses.MSE, d, theta, 0).capabilities());
        assertEquals(new OperatorCapabilities(CurvatureKind.OBSERVED_FISHER, true, 0.5, true),
                new ObservedFisherOperator(m, Losses.MSE, d, theta, 0).capabilities(), "mse: NLL = sum / 2");
        assertEquals(CurvatureKind.OTHER, new DenseOperator(Nd4j.eye(2).castTo(DataType.DOUBLE)).capabilities().kind());
        assertFalse(new DenseOperator(Nd4j.create(new double[][] {{1, 2}, {0, 1}})).capabilities().symmetric());
        assertTrue(Double.isNaN(ObservedFisherOperator.of(t -> t.square().sum(), Nd4j.ones(DataType.DOUBLE, 2)).capabilities().lossScale()));
    }

    @Test
    void observedFisherOfLogisticRegressionIsXtWX() {
        int n = 40;
        int d = 3;
        INDArray x = randn(1, n, d);
        INDArray y = Transforms.round(Transforms.sigmoid(randn(2, n, 1), true), true);
        Sequential m = Sequential.builder(d).dense(1, Activation.IDENTITY).build();
        INDArray theta = randn(3, d + 1).muli(0.5);
        INDArray fisher = new ObservedFisherOperator(m, Losses.BCE, new Dataset(x, y), theta, 7).toDense(2);
        INDArray xa = Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, n, 1));
        INDArray p = Transforms.sigmoid(xa.mmul(theta.reshape(d + 1, 1)), true);
        INDArray w = p.mul(p.rsub(1.0));
        INDArray expected = xa.transpose().mmul(xa.mulColumnVector(w));
        assertClose("observed Fisher of logistic regression", fisher, expected, Tolerances.CLOSED_FORM);
        // any user log-likelihood: the same matrix
        INDArray ll = ObservedFisherOperator.of(t -> {
            Tensor z = Tensor.of(xa).matmul(t);
            return Tensor.of(y.reshape(n)).mul(z).sub(z.softplus()).sum();
        }, theta).toDense(4);
        assertClose("observed Fisher from a user log-likelihood", ll, expected, Tolerances.CLOSED_FORM);
    }

    @Test
    void linearMseHessianIsClosedFormAndBatchingDoesNotChangeIt() {
        int n = 11;
        int d = 3;
        int out = 2;
        INDArray x = randn(4, n, d);
        Sequential m = Sequential.builder(d).dense(out, Activation.IDENTITY).build();
        Dataset data = new Dataset(x, randn(5, n, out));
        INDArray theta = m.initialParameters(Init.XAVIER, 6);
        INDArray h = new HessianOperator(m, Losses.MSE, data, theta, 0).toDense(3);
        INDArray hb = new HessianOperator(m, Losses.MSE, data, theta, 4).toDense(5);
        INDArray xa = Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, n, 1));
        INDArray xtx = xa.transpose().mmul(xa);
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, (d + 1) * out, (d + 1) * out);
        for (int i = 0; i <= d; i++) {
            for (int j = 0; j <= d; j++) {
                for (int o = 0; o < out; o++) {
                    expected.putScalar(i * out + o, j * out + o, 2.0 / (n * out) * xtx.getDouble(i, j));
                }
            }
        }
        assertClose("H = 2/(n out) (X~^T X~ kron I)", h, expected, Tolerances.CLOSED_FORM);
        assertClose("batched", hb, h, Tolerances.EXACT);
        assertClose("GGN of a linear model equals H", new GgnOperator(m, Losses.MSE, data, theta, 4).toDense(4), h, Tolerances.EXACT);
    }

    @Test
    void hessianOperatorMatchesDenseHessianAndDifferencesOfTheGradient() {
        Sequential m = Sequential.mlp(new int[] {3, 5, 4, 3}, Activation.TANH);
        Dataset data = classification(7, 13, 3, 3);
        INDArray theta = m.initialParameters(Init.XAVIER, 8);
        ModelObjective obj = new ModelObjective(m, Losses.CROSS_ENTROPY, data, Reduction.MEAN);
        INDArray dense = Autodiff.hessian(obj).apply(Tensor.of(theta)).array();
        HessianOperator op = new HessianOperator(m, Losses.CROSS_ENTROPY, data, theta, 5);
        INDArray v = randn(9, m.parameterCount(), 4);
        assertClose("H V (operator, 3 batches) vs dense H V", op.matmat(v), dense.mmul(v), Tolerances.EXACT);
        INDArray fdOfGradient = FiniteDifferences.jacobian(t -> Tensor.of(obj.gradient(t.array())), theta, Tolerances.FD_STEP);
        assertClose("H vs differences of the gradient", dense, fdOfGradient, Tolerances.FD_FIRST);
    }

    @Test
    void ggnEqualsJacobianTransposeTimesOutputHessianTimesJacobian() {
        Sequential m = Sequential.mlp(new int[] {2, 4, 3}, Activation.SOFTPLUS);
        Dataset data = classification(10, 6, 2, 3);
        INDArray theta = m.initialParameters(Init.XAVIER, 11);
        long big = m.parameterCount();
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, big, big);
        for (int i = 0; i < data.n(); i++) {
            INDArray xi = data.x().getRow(i).reshape(1, 2).dup();
            INDArray ji = Autodiff.jacrev(t -> m.forward(t, Tensor.of(xi)).reshape(3)).apply(Tensor.of(theta)).array();   // [3, N]
            INDArray f = m.predict(theta, xi).reshape(3);
            INDArray p = Transforms.softmax(f.reshape(1, 3), true).reshape(3);
            INDArray hOut = Nd4j.diag(p).sub(p.reshape(3, 1).mmul(p.reshape(1, 3)));   // softmax cross-entropy output Hessian
            expected.addi(ji.transpose().mmul(hOut).mmul(ji));
        }
        expected.divi(data.n());
        assertClose("GGN vs sum_i J_i^T H_i J_i", new GgnOperator(m, Losses.CROSS_ENTROPY, data, theta, 4).toDense(7), expected,
                Tolerances.CLOSED_FORM);
    }

    @Test
    void piecewiseLinearNetworkHasHessianEqualToGgnWithinEachLayer() {
        // with relu and mse the output is linear in each single layer's parameters, so the diagonal
        // (per-layer) blocks of H and G coincide; cross-layer blocks differ by the residual term
        Sequential m = Sequential.mlp(new int[] {3, 6, 2}, Activation.RELU);
        Dataset data = new Dataset(randn(12, 9, 3), randn(13, 9, 2));
        INDArray theta = m.initialParameters(Init.HE, 14);
        INDArray h = new HessianOperator(m, Losses.MSE, data, theta, 0).toDense(8);
        INDArray g = new GgnOperator(m, Losses.MSE, data, theta, 0).toDense(8);
        long w1 = 3 * 6 + 6;
        assertClose("layer 1 block", h.get(NDArrayIndex.interval(0, w1), NDArrayIndex.interval(0, w1)),
                g.get(NDArrayIndex.interval(0, w1), NDArrayIndex.interval(0, w1)), Tolerances.EXACT);
        assertClose("layer 2 block", h.get(NDArrayIndex.interval(w1, m.parameterCount()), NDArrayIndex.interval(w1, m.parameterCount())),
                g.get(NDArrayIndex.interval(w1, m.parameterCount()), NDArrayIndex.interval(w1, m.parameterCount())), Tolerances.EXACT);
        assertTrue(Comparison.relativeError(h, g) > 1e-6, "cross-layer blocks must differ (residual term)");
    }

    @Test
    void empiricalFisherIsTheMeanOuterProductOfPerSampleGradients() {
        Sequential m = Sequential.mlp(new int[] {2, 3, 2}, Activation.TANH);
        Dataset data = new Dataset(randn(15, 5, 2), randn(16, 5, 2));
        INDArray theta = m.initialParameters(Init.XAVIER, 17);
        long big = m.parameterCount();
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, big, big);
        for (int i = 0; i < 5; i++) {
            INDArray gi = new ModelObjective(m, Losses.MSE, data.x().getRow(i).reshape(1, 2).dup(), data.y().getRow(i).reshape(1, 2).dup(),
                    Reduction.SUM).gradient(theta).reshape(big, 1);
            expected.addi(gi.mmul(gi.transpose()));
        }
        expected.divi(5 * 2);   // mse normaliser n * out
        assertClose("empirical Fisher", new EmpiricalFisherOperator(m, Losses.MSE, data, theta, 2).toDense(5), expected, Tolerances.CLOSED_FORM);
    }

    @Test
    void subsetOperatorIsTheSubBlockAndShapesAreChecked() {
        INDArray a = randn(18, 6, 6);
        INDArray sym = a.add(a.transpose());
        LinearOperator op = new DenseOperator(sym);
        assertClose("subset", new SubsetOperator(op, 2, 5).toDense(2), sym.get(NDArrayIndex.interval(2, 5), NDArrayIndex.interval(2, 5)), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op.matmat(Nd4j.zeros(DataType.DOUBLE, 5, 2)));
        assertTrue(e.getMessage().contains("[6, k]") && e.getMessage().contains("[5, 2]"), e.getMessage());
    }

    @Test
    void wrongParameterCountIsAClearError() {
        Sequential m = Sequential.mlp(new int[] {2, 3, 1}, Activation.TANH);
        Dataset data = new Dataset(randn(19, 4, 2), randn(20, 4, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HessianOperator(m, Losses.MSE, data, Nd4j.zeros(DataType.DOUBLE, 12), 0));
        assertTrue(e.getMessage().contains("N = 13"), e.getMessage());
    }

    static Loss[] losses() {
        return new Loss[] {Losses.MSE, Losses.CROSS_ENTROPY};
    }
}
