package dev.curvlab.examples;

import dev.curvlab.core.Ops;
import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The seed module's use, done batched: per-sample Jacobians of coordinate maps (polar and spherical
 * to Cartesian) checked against their determinants, per-sample Hessians of {@code sin(x1 x2 x3)},
 * and the input Jacobian of a network for a batch, each one pass for the whole batch.
 *
 * <p>Run: {@code java -cp examples/target/curvlab-examples.jar dev.curvlab.examples.SeedJacobians [n]}
 */
public final class SeedJacobians {
    private SeedJacobians() {
    }

    static Tensor polar(Tensor x) {
        return Ops.hstack(x.col(0).mul(x.col(1).cos()), x.col(0).mul(x.col(1).sin()));
    }

    static Tensor spherical(Tensor x) {
        Tensor r = x.col(0);
        Tensor st = x.col(1).sin();
        return Ops.hstack(r.mul(st).mul(x.col(2).cos()), r.mul(st).mul(x.col(2).sin()), r.mul(x.col(1).cos()));
    }

    public static void main(String[] args) {
        Launch.configure();
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Nd4j.getRandom().setSeed(7);
        // polar: (r, phi) -> (r cos phi, r sin phi); det J = r
        INDArray xp = Nd4j.rand(DataType.DOUBLE, n, 2).mulRowVector(Nd4j.create(new double[] {1000, 2 * Math.PI}, new long[] {1, 2}, DataType.DOUBLE));
        long t0 = System.nanoTime();
        INDArray jp = Rowwise.jacobian(SeedJacobians::polar).apply(Tensor.of(xp)).array();
        double tp = (System.nanoTime() - t0) / 1e6;
        INDArray detP = jp.get(all(), pt(0), pt(0)).mul(jp.get(all(), pt(1), pt(1))).sub(jp.get(all(), pt(0), pt(1)).mul(jp.get(all(), pt(1), pt(0))));
        System.out.printf("polar      J %s in %.1f ms; max |det J - r| = %.2e%n", shape(jp), tp,
                Transforms.abs(detP.sub(xp.getColumn(0)), false).maxNumber().doubleValue());
        // spherical: (r, theta, phi) -> Cartesian; det J = r^2 sin(theta)
        INDArray xs = Nd4j.rand(DataType.DOUBLE, n, 3).mulRowVector(Nd4j.create(new double[] {1000, Math.PI, 2 * Math.PI}, new long[] {1, 3}, DataType.DOUBLE));
        t0 = System.nanoTime();
        INDArray js = Rowwise.jacobian(SeedJacobians::spherical).apply(Tensor.of(xs)).array();
        double ts = (System.nanoTime() - t0) / 1e6;
        INDArray r = xs.getColumn(0);
        INDArray expectedDet = r.mul(r).mul(Transforms.sin(xs.getColumn(1), true));
        double worst = 0;
        for (int i = 0; i < Math.min(n, 200); i++) {
            double det = det3(js.slice(i));
            worst = Math.max(worst, Math.abs(det - expectedDet.getDouble(i)) / Math.max(1, Math.abs(expectedDet.getDouble(i))));
        }
        System.out.printf("spherical  J %s in %.1f ms; max relative |det J - r^2 sin(theta)| (200 samples) = %.2e%n", shape(js), ts, worst);
        // per-sample Hessians of sin(x1 x2 x3)
        INDArray x3 = Nd4j.randn(DataType.DOUBLE, n, 3);
        t0 = System.nanoTime();
        INDArray h = Rowwise.hessian(v -> v.col(0).mul(v.col(1)).mul(v.col(2)).sin()).apply(Tensor.of(x3)).array();
        System.out.printf("sin(x1 x2 x3)  H %s in %.1f ms; H[0] =%n%s%n", shape(h), (System.nanoTime() - t0) / 1e6, h.slice(0));
        // a network's outputs w.r.t. its inputs
        Sequential net = Sequential.mlp(new int[] {16, 64, 64, 8}, Activation.TANH);
        INDArray theta = net.initialParameters(1);
        INDArray xn = Nd4j.randn(DataType.DOUBLE, 4096, 16);
        t0 = System.nanoTime();
        INDArray jn = Rowwise.jacobian(x -> net.forward(Tensor.of(theta), x)).apply(Tensor.of(xn)).array();
        System.out.printf("MLP %s input Jacobian %s in %.1f ms%n", net.describe(), shape(jn), (System.nanoTime() - t0) / 1e6);
    }

    private static double det3(INDArray m) {
        return m.getDouble(0, 0) * (m.getDouble(1, 1) * m.getDouble(2, 2) - m.getDouble(1, 2) * m.getDouble(2, 1))
                - m.getDouble(0, 1) * (m.getDouble(1, 0) * m.getDouble(2, 2) - m.getDouble(1, 2) * m.getDouble(2, 0))
                + m.getDouble(0, 2) * (m.getDouble(1, 0) * m.getDouble(2, 1) - m.getDouble(1, 1) * m.getDouble(2, 0));
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex all() {
        return org.nd4j.linalg.indexing.NDArrayIndex.all();
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex pt(long i) {
        return org.nd4j.linalg.indexing.NDArrayIndex.point(i);
    }

    private static String shape(INDArray a) {
        return java.util.Arrays.toString(a.shape());
    }
}
