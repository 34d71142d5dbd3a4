package dev.curvlab.nn.products;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;

/**
 * The built-in losses' per-sample derivatives in the network outputs, in closed form on Java arrays
 * (the same formulas as {@link dev.curvlab.nn.loss.OutputDerivatives}, without forming the
 * {@code [n, out, out]} Hessians): the summed loss with its gradient, and the Hessian applied to a
 * block of output directions. Rows are samples; {@code f, g: [n, out]}, targets as prepared by the
 * loss, directions {@code u, hu: [n, k, out]}.
 */
abstract class OutputLoss {
    /** The closed form of a built-in loss, or null for any other loss (the generic engine differentiates it). */
    static OutputLoss of(Loss loss) {
        if (loss == Losses.MSE) {
            return new Mse();
        }
        if (loss == Losses.CROSS_ENTROPY) {
            return new CrossEntropy();
        }
        if (loss == Losses.BCE) {
            return new Diagonal(Diagonal.BCE);
        }
        if (loss == Losses.POISSON) {
            return new Diagonal(Diagonal.POISSON);
        }
        if (loss == Losses.GAUSSIAN) {
            return new Gaussian();
        }
        return null;
    }

    /** The loss summed over all rows; {@code g = d loss / d f}. */
    abstract double valueAndGradient(double[] f, double[] y, int n, int out, double[] g);

    /** {@code hu[i, j, :] = H_i u[i, j, :]} with {@code H_i} the Hessian of sample i's loss in its outputs. */
    abstract void hessianProduct(double[] f, double[] y, int n, int out, int k, double[] u, double[] hu);

    /** {@code (f - y)^2}: g = 2 (f - y), H = 2 I. */
    private static final class Mse extends OutputLoss {
        @Override
        double valueAndGradient(double[] f, double[] y, int n, int out, double[] g) {
            double s = 0;
            for (int i = 0; i < n * out; i++) {
                double r = f[i] - y[i];
                s += r * r;
                g[i] = 2 * r;
            }
            return s;
        }

        @Override
        void hessianProduct(double[] f, double[] y, int n, int out, int k, double[] u, double[] hu) {
            for (int i = 0; i < n * k * out; i++) {
                hu[i] = 2 * u[i];
            }
        }
    }

    /** Per-element losses with a diagonal Hessian: bce {@code softplus(f) - y f} and poisson {@code e^f - y f}. */
    private static final class Diagonal extends OutputLoss {
        static final int BCE = 0;
        static final int POISSON = 1;
        private final int kind;

        Diagonal(int kind) {
            this.kind = kind;
        }

        @Override
        double valueAndGradient(double[] f, double[] y, int n, int out, double[] g) {
            double s = 0;
            for (int i = 0; i < n * out; i++) {
                double x = f[i];
                if (kind == BCE) {
                    s += Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x))) - y[i] * x;
                    g[i] = 1 / (1 + Math.exp(-x)) - y[i];
                } else {
                    double e = Math.exp(x);
                    s += e - y[i] * x;
                    g[i] = e - y[i];
                }
            }
            return s;
        }

        @Override
        void hessianProduct(double[] f, double[] y, int n, int out, int k, double[] u, double[] hu) {
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double x = f[i * out + o];
                    double p = 1 / (1 + Math.exp(-x));
                    double h = kind == BCE ? p * (1 - p) : Math.exp(x);
                    for (int j = 0; j < k; j++) {
                        int at = (i * k + j) * out + o;
                        hu[at] = h * u[at];
                    }
                }
            }
        }
    }

    /** Softmax cross-entropy on logits, one-hot targets: g = p - y, H u = p * u - p (p . u). */
    private static final class CrossEntropy extends OutputLoss {
        private double[] p = new double[0];

        @Override
        double valueAndGradient(double[] f, double[] y, int n, int out, double[] g) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                int r = i * out;
                double lse = logSumExp(f, r, out);
                for (int o = 0; o < out; o++) {
                    s -= f[r + o] * y[r + o];
                    g[r + o] = Math.exp(f[r + o] - lse) - y[r + o];
                }
                s += lse;
            }
            return s;
        }

        @Override
        void hessianProduct(double[] f, double[] y, int n, int out, int k, double[] u, double[] hu) {
            if (p.length < out) {
                p = new double[out];
            }
            for (int i = 0; i < n; i++) {
                double lse = logSumExp(f, i * out, out);
                for (int o = 0; o < out; o++) {
                    p[o] = Math.exp(f[i * out + o] - lse);
                }
                for (int j = 0; j < k; j++) {
                    int r = (i * k + j) * out;
                    double pu = 0;
                    for (int o = 0; o < out; o++) {
                        pu += p[o] * u[r + o];
                    }
                    for (int o = 0; o < out; o++) {
                        hu[r + o] = p[o] * (u[r + o] - pu);
                    }
                }
            }
        }

        private static double logSumExp(double[] f, int r, int out) {
            double m = Double.NEGATIVE_INFINITY;
            for (int o = 0; o < out; o++) {
                m = Math.max(m, f[r + o]);
            }
            double s = 0;
            for (int o = 0; o < out; o++) {
                s += Math.exp(f[r + o] - m);
            }
            return m + Math.log(s);
        }
    }

    /**
     * Heteroscedastic Gaussian, outputs {@code [mu | s]} ({@code s} the log variance), targets [n, out/2]:
     * {@code l = (s + r^2 w) / 2} with {@code r = y - mu, w = e^-s}; {@code dl/dmu = -r w},
     * {@code dl/ds = (1 - r^2 w) / 2}; per pair (mu_c, s_c) the Hessian {@code [[w, r w], [r w, r^2 w / 2]]}.
     */
    private static final class Gaussian extends OutputLoss {
        @Override
        double valueAndGradient(double[] f, double[] y, int n, int out, double[] g) {
            int kk = out / 2;
            double s = 0;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < kk; c++) {
                    double mu = f[i * out + c];
                    double ls = f[i * out + kk + c];
                    double r = y[i * kk + c] - mu;
                    double w = Math.exp(-ls);
                    s += 0.5 * (ls + r * r * w);
                    g[i * out + c] = -r * w;
                    g[i * out + kk + c] = 0.5 * (1 - r * r * w);
                }
            }
            return s;
        }

        @Override
        void hessianProduct(double[] f, double[] y, int n, int out, int k, double[] u, double[] hu) {
            int kk = out / 2;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < kk; c++) {
                    double r = y[i * kk + c] - f[i * out + c];
                    double w = Math.exp(-f[i * out + kk + c]);
                    for (int j = 0; j < k; j++) {
                        int at = (i * k + j) * out;
                        double um = u[at + c];
                        double us = u[at + kk + c];
                        hu[at + c] = w * um + r * w * us;
                        hu[at + kk + c] = r * w * um + 0.5 * r * r * w * us;
                    }
                }
            }
        }
    }
}
