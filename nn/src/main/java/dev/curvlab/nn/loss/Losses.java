package dev.curvlab.nn.loss;

import dev.curvlab.core.Tensor;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The built-in losses. Each states its per-element form (summed per sample: {@link Loss#perSample}),
 * its mean's normaliser (what training reports) and its negative log-likelihood as a multiple of the
 * sum (the model's predictive distribution; constants dropped); {@link Loss#evaluate} derives every
 * reduction from these in one place.
 * <ul>
 * <li>{@code mse}: {@code (f - y)^2}, mean over all n*out elements; NLL (Gaussian, unit variance) {@code 0.5 sum (f - y)^2}.</li>
 * <li>{@code ce}: softmax cross-entropy on logits with class indices {@code [n]} or {@code [n, 1]},
 *     {@code logsumexp(f_i) - f_i[y_i]}, mean over n; NLL = the sum.</li>
 * <li>{@code bce}: binary cross-entropy on logits, targets in [0, 1], {@code softplus(f) - y f}, mean over elements; NLL = the sum.</li>
 * <li>{@code gaussian}: heteroscedastic Gaussian, outputs {@code [mu | log variance]} ({@code [n, 2k]} for targets {@code [n, k]}),
 *     {@code 0.5 (s + (y - mu)^2 e^-s)}, mean over n*k; NLL = the sum.</li>
 * <li>{@code poisson}: log-rate outputs, counts {@code y >= 0}, {@code e^f - y f}, mean over elements; NLL = the sum.</li>
 * </ul>
 */
public final class Losses {
    private Losses() {
    }

    public static final Loss MSE = new ElementwiseLoss("mse") {
        @Override
        Tensor perElement(Tensor f, Tensor y) {
            return f.sub(y).square();
        }

        @Override
        public double nllPerSum() {
            return 0.5;
        }

        @Override
        public OutputDerivatives outputDerivatives(INDArray f, INDArray y) {
            // d/df (f - y)^2 = 2 (f - y); d2 = 2
            return new OutputDerivatives(f.sub(y).muli(2.0), OutputDerivatives.diagonal(Nd4j.valueArrayOf(f.shape(), 2.0, DataType.DOUBLE)));
        }
    };

    public static final Loss BCE = new ElementwiseLoss("bce") {
        @Override
        Tensor perElement(Tensor f, Tensor y) {
            return f.softplus().sub(f.mul(y));
        }

        @Override
        void check(double[] v, int i) {
            if (!(v[i] >= 0 && v[i] <= 1)) {
                throw new IllegalArgumentException("bce targets must lie in [0, 1]; found " + v[i] + " at element " + i);
            }
        }

        @Override
        public OutputDerivatives outputDerivatives(INDArray f, INDArray y) {
            // d/df (softplus(f) - y f) = sigmoid(f) - y; d2 = sigmoid(f) (1 - sigmoid(f))
            INDArray p = Transforms.sigmoid(f, true);
            return new OutputDerivatives(p.sub(y), OutputDerivatives.diagonal(p.mul(p.rsub(1.0))));
        }
    };

    public static final Loss POISSON = new ElementwiseLoss("poisson") {
        @Override
        Tensor perElement(Tensor f, Tensor y) {
            return f.exp().sub(f.mul(y));
        }

        @Override
        void check(double[] v, int i) {
            if (!(v[i] >= 0)) {
                throw new IllegalArgumentException("poisson targets must be counts >= 0; found " + v[i] + " at element " + i);
            }
        }

        @Override
        public OutputDerivatives outputDerivatives(INDArray f, INDArray y) {
            // d/df (e^f - y f) = e^f - y; d2 = e^f
            INDArray e = Transforms.exp(f, true);
            return new OutputDerivatives(e.sub(y), OutputDerivatives.diagonal(e));
        }
    };

    public static final Loss GAUSSIAN = new ElementwiseLoss("gaussian") {
        @Override
        Tensor perElement(Tensor f, Tensor y) {
            long k = f.size(1) / 2;
            Tensor mu = f.cols(0, k);
            Tensor s = f.cols(k, 2 * k);
            return s.add(y.sub(mu).square().mul(s.neg().exp())).mul(0.5);
        }

        @Override
        public long outputsFor(long targetWidth) {
            return 2 * targetWidth;
        }

        @Override
        long targetWidth(long outputs) {
            if (outputs % 2 != 0) {
                throw new IllegalArgumentException("gaussian loss needs an even number of outputs [mean | log variance], the model has " + outputs);
            }
            return outputs / 2;
        }

        @Override
        public long normalizer(long n, long outputs) {
            return n * (outputs / 2);
        }

        @Override
        public OutputDerivatives outputDerivatives(INDArray f, INDArray y) {
            // l = 0.5 (s + r^2 e^-s), r = y - mu: dl/dmu = -r e^-s, dl/ds = 0.5 (1 - r^2 e^-s);
            // d2/dmu2 = e^-s, d2/dmu ds = r e^-s, d2/ds2 = 0.5 r^2 e^-s; pairs (mu_i, s_i) of different i do not couple
            long n = f.size(0);
            long k = f.size(1) / 2;
            INDArray mu = f.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k));
            INDArray s = f.get(NDArrayIndex.all(), NDArrayIndex.interval(k, 2 * k));
            INDArray w = Transforms.exp(s.neg(), false);                 // e^-s
            INDArray r = y.sub(mu);
            INDArray rw = r.mul(w);
            INDArray r2w = rw.mul(r);
            INDArray grad = Nd4j.hstack(rw.neg(), r2w.rsub(1.0).muli(0.5));
            INDArray h = OutputDerivatives.diagonal(Nd4j.hstack(w, r2w.mul(0.5)));
            // entries (mu_i, s_i) and (s_i, mu_i) of each sample's [2k, 2k] matrix: views with stride (2k)^2 between samples and
            // 2k + 1 along i, starting at (0, k) (flat offset k) and at (k, 0) (flat offset k * 2k)
            long out = 2 * k;
            Nd4j.create(h.data(), new long[] {n, k}, new long[] {out * out, out + 1}, k, 'c').assign(rw);
            Nd4j.create(h.data(), new long[] {n, k}, new long[] {out * out, out + 1}, k * out, 'c').assign(rw);
            return new OutputDerivatives(grad, h);
        }
    };

    public static final Loss CROSS_ENTROPY = new Loss() {
        @Override
        public String name() {
            return "ce";
        }

        @Override
        public Tensor prepare(INDArray y, long outputs) {
            if (!(y.rank() == 1 || (y.rank() == 2 && y.size(1) == 1))) {
                throw new IllegalArgumentException("ce targets must be class indices [n] or [n, 1], got shape " + Arrays.toString(y.shape()));
            }
            double[] v = values(y);
            for (int i = 0; i < v.length; i++) {
                if (!(v[i] >= 0 && v[i] < outputs && v[i] == Math.rint(v[i]))) {
                    throw new IllegalArgumentException("ce target " + v[i] + " in row " + i + " is not a class index in 0.."
                            + (outputs - 1) + " (the model has " + outputs + " outputs)");
                }
            }
            double[] onehot = new double[Math.multiplyExact(v.length, (int) outputs)];
            for (int i = 0; i < v.length; i++) {
                onehot[i * (int) outputs + (int) v[i]] = 1.0;
            }
            return Tensor.of(Nd4j.create(onehot, new long[] {v.length, outputs}, DataType.DOUBLE));
        }

        @Override
        public Tensor perSample(Tensor f, Tensor onehot) {
            requireShape(f, onehot);
            return f.logSumExp(1, false).sub(f.mul(onehot).sum(1));
        }

        @Override
        public Tensor summed(Tensor f, Tensor onehot) {
            requireShape(f, onehot);
            return f.logSumExp(1, false).sum().sub(f.mul(onehot).sum());
        }

        @Override
        public long normalizer(long n, long outputs) {
            return n;
        }

        @Override
        public OutputDerivatives outputDerivatives(INDArray f, INDArray onehot) {
            // p = softmax(f): d/df (logsumexp(f) - f . y) = p - y; d2 = diag(p) - p p^T
            long n = f.size(0);
            long out = f.size(1);
            INDArray p = Transforms.softmax(f, true);
            INDArray h = p.reshape(n, out, 1).mul(p.reshape(n, 1, out)).negi();
            OutputDerivatives.diagonalView(h).addi(p);
            return new OutputDerivatives(p.sub(onehot), h);
        }
    };

    /** The loss with this name: mse, ce (or cross_entropy), bce, gaussian, poisson. */
    public static Loss parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "mse" -> MSE;
            case "ce", "cross_entropy", "crossentropy" -> CROSS_ENTROPY;
            case "bce", "binary_cross_entropy" -> BCE;
            case "gaussian", "gaussian_nll" -> GAUSSIAN;
            case "poisson", "poisson_nll" -> POISSON;
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'; known: mse, ce, bce, gaussian, poisson");
        };
    }

    /** Losses that are a sum of per-element terms over {@code [n, k]} targets. */
    private abstract static class ElementwiseLoss implements Loss {
        private final String name;

        ElementwiseLoss(String name) {
            this.name = name;
        }

        abstract Tensor perElement(Tensor f, Tensor y);

        void check(double[] v, int i) {
        }

        /** Target columns for a model with this many outputs (the inverse of {@link #outputsFor}); rejects impossible widths. */
        long targetWidth(long outputs) {
            return outputs;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Tensor prepare(INDArray y, long outputs) {
            long width = targetWidth(outputs);
            INDArray y2 = y.rank() == 1 && width == 1 ? y.reshape(y.length(), 1) : y;
            if (y2.rank() != 2 || y2.size(1) != width) {
                throw new IllegalArgumentException(name + " targets must be [n, " + width + "] for a model with " + outputs
                        + " outputs, got shape " + Arrays.toString(y.shape()));
            }
            double[] v = values(y2);
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    throw new IllegalArgumentException(name + " target " + v[i] + " at row " + i / width + ", column " + i % width);
                }
                check(v, i);
            }
            return Tensor.of(y2.castTo(DataType.DOUBLE));
        }

        @Override
        public Tensor perSample(Tensor f, Tensor y) {
            return perElement(f, y).sum(1);
        }

        @Override
        public Tensor summed(Tensor f, Tensor y) {
            return perElement(f, y).sum();
        }

        @Override
        public long normalizer(long n, long outputs) {
            return n * outputs;
        }
    }

    private static void requireShape(Tensor f, Tensor y) {
        if (!Arrays.equals(f.shape(), y.shape())) {
            throw new IllegalArgumentException("outputs of shape " + Arrays.toString(f.shape()) + " for targets prepared as "
                    + Arrays.toString(y.shape()));
        }
    }

    private static double[] values(INDArray y) {
        return y.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }
}
