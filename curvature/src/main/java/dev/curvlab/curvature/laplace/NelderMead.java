package dev.curvlab.curvature.laplace;

import java.util.Arrays;
import java.util.function.ToDoubleFunction;

/**
 * Maximisation of a smooth function of a few variables by the Nelder-Mead simplex (reflection,
 * expansion, contraction, shrink), without derivatives. Points where the function is not finite
 * count as -infinity. Stops when the simplex is smaller than {@code tol} in every coordinate.
 */
final class NelderMead {
    private NelderMead() {
    }

    static double[] maximize(ToDoubleFunction<double[]> f, double[] start, double step, double tol, int maxIterations) {
        int d = start.length;
        double[][] pts = new double[d + 1][];
        double[] val = new double[d + 1];
        for (int i = 0; i <= d; i++) {
            pts[i] = start.clone();
            if (i > 0) {
                pts[i][i - 1] += step;
            }
            val[i] = safe(f, pts[i]);
        }
        for (int it = 0; it < maxIterations; it++) {
            sort(pts, val);
            if (size(pts) < tol) {
                break;
            }
            double[] centroid = new double[d];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    centroid[j] += pts[i][j] / d;
                }
            }
            double[] worst = pts[d];
            double[] r = along(centroid, worst, -1.0);
            double fr = safe(f, r);
            if (fr > val[0]) {
                double[] e = along(centroid, worst, -2.0);
                double fe = safe(f, e);
                pts[d] = fe > fr ? e : r;
                val[d] = Math.max(fe, fr);
            } else if (fr > val[d - 1]) {
                pts[d] = r;
                val[d] = fr;
            } else {
                double[] c = fr > val[d] ? along(centroid, worst, -0.5) : along(centroid, worst, 0.5);
                double fc = safe(f, c);
                if (fc > Math.max(fr, val[d])) {
                    pts[d] = c;
                    val[d] = fc;
                } else {
                    for (int i = 1; i <= d; i++) {
                        pts[i] = along(pts[0], pts[i], 0.5);
                        val[i] = safe(f, pts[i]);
                    }
                }
            }
        }
        sort(pts, val);
        return pts[0];
    }

    /** {@code c + t (p - c)}. */
    private static double[] along(double[] c, double[] p, double t) {
        double[] out = new double[c.length];
        for (int j = 0; j < c.length; j++) {
            out[j] = c[j] + t * (p[j] - c[j]);
        }
        return out;
    }

    private static double safe(ToDoubleFunction<double[]> f, double[] x) {
        try {
            double v = f.applyAsDouble(x);
            return Double.isFinite(v) ? v : Double.NEGATIVE_INFINITY;
        } catch (IllegalStateException e) {
            return Double.NEGATIVE_INFINITY;
        }
    }

    private static double size(double[][] pts) {
        double m = 0;
        for (int i = 1; i < pts.length; i++) {
            for (int j = 0; j < pts[0].length; j++) {
                m = Math.max(m, Math.abs(pts[i][j] - pts[0][j]));
            }
        }
        return m;
    }

    /** Best first. */
    private static void sort(double[][] pts, double[] val) {
        Integer[] idx = new Integer[pts.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(val[b], val[a]));
        double[][] p2 = new double[pts.length][];
        double[] v2 = new double[pts.length];
        for (int i = 0; i < idx.length; i++) {
            p2[i] = pts[idx[i]];
            v2[i] = val[idx[i]];
        }
        System.arraycopy(p2, 0, pts, 0, pts.length);
        System.arraycopy(v2, 0, val, 0, val.length);
    }
}
