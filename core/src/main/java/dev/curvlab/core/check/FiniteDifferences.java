package dev.curvlab.core.check;

import dev.curvlab.core.Shapes;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.TensorFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Central finite differences: an oracle that shares nothing with automatic differentiation but
 * function evaluation. Cost: 2 evaluations per input element (Jacobian), 4 per pair (Hessian), so
 * for small problems and tests only. Errors are O(h^2) plus rounding O(eps / h) resp. O(eps / h^2).
 */
public final class FiniteDifferences {
    private FiniteDifferences() {
    }

    /** {@code [out..., in...]}: {@code (f(x + h e_j) - f(x - h e_j)) / 2h} for every input element j. */
    public static INDArray jacobian(TensorFunction f, INDArray x, double h) {
        INDArray x0 = x.castTo(DataType.DOUBLE).dup('c');
        long n = x0.length();
        INDArray y0 = f.apply(Tensor.of(x0)).array();
        long m = y0.length();
        INDArray jac = Nd4j.zeros(DataType.DOUBLE, m, n);
        INDArray flat = x0.reshape(n);
        for (long j = 0; j < n; j++) {
            double v = flat.getDouble(j);
            flat.putScalar(j, v + h);
            INDArray plus = f.apply(Tensor.of(x0.dup())).array().castTo(DataType.DOUBLE).reshape(m);
            flat.putScalar(j, v - h);
            INDArray minus = f.apply(Tensor.of(x0.dup())).array().castTo(DataType.DOUBLE).reshape(m);
            flat.putScalar(j, v);
            jac.getColumn(j).assign(plus.sub(minus).divi(2 * h));
        }
        return jac.reshape(Shapes.concat(y0.shape(), x.shape()));
    }

    /**
     * {@code [in..., in...]} Hessian of a single-output f from function values only:
     * {@code (f(++) - f(+-) - f(-+) + f(--)) / 4h^2} off the diagonal, {@code (f(x+2h) - 2f(x) + f(x-2h)) / 4h^2} on it.
     */
    public static INDArray hessian(TensorFunction f, INDArray x, double h) {
        INDArray x0 = x.castTo(DataType.DOUBLE).dup('c');
        long n = x0.length();
        INDArray flat = x0.reshape(n);
        double f0 = value(f, x0);
        double[][] hess = new double[(int) n][(int) n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double s = 0;
                for (int si = -1; si <= 1; si += 2) {
                    for (int sj = -1; sj <= 1; sj += 2) {
                        INDArray xp = x0.dup();
                        INDArray fp = xp.reshape(n);
                        fp.putScalar(i, fp.getDouble(i) + si * h);
                        fp.putScalar(j, fp.getDouble(j) + sj * h);
                        s += si * sj * value(f, xp);
                    }
                }
                hess[i][j] = s / (4 * h * h);
                hess[j][i] = hess[i][j];
            }
        }
        if (Double.isNaN(f0)) {
            throw new ArithmeticException("FiniteDifferences.hessian: f(x) is NaN");
        }
        return Nd4j.create(hess).castTo(DataType.DOUBLE).reshape(Shapes.concat(x.shape(), x.shape()));
    }

    private static double value(TensorFunction f, INDArray x) {
        Tensor y = f.apply(Tensor.of(x));
        if (y.length() != 1) {
            throw new IllegalArgumentException("FiniteDifferences.hessian needs a single-element output, got " + Shapes.str(y.shape()));
        }
        return y.item();
    }

    /**
     * Per-sample Jacobians {@code [n, m, d]} of a row-wise f on {@code x: [n, d]}: column j of every
     * row is perturbed at once (valid because rows are independent), 2d evaluations in all.
     */
    public static INDArray rowwiseJacobian(TensorFunction f, INDArray x, double h) {
        INDArray x0 = x.castTo(DataType.DOUBLE).dup('c');
        long n = x0.size(0);
        long d = x0.size(1);
        INDArray y0 = f.apply(Tensor.of(x0)).array();
        long m = y0.rank() == 1 ? 1 : y0.size(1);
        INDArray jac = Nd4j.zeros(DataType.DOUBLE, n, m, d);
        for (long j = 0; j < d; j++) {
            INDArray xp = x0.dup();
            xp.getColumn(j).addi(h);
            INDArray xm = x0.dup();
            xm.getColumn(j).subi(h);
            INDArray diff = f.apply(Tensor.of(xp)).array().castTo(DataType.DOUBLE).reshape(n, m)
                    .sub(f.apply(Tensor.of(xm)).array().castTo(DataType.DOUBLE).reshape(n, m)).divi(2 * h);
            jac.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(j)).assign(diff);
        }
        return jac;
    }
}
