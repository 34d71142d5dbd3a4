package dev.curvlab.examples;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Classification quality of predicted probabilities {@code [n, classes]} against class indices:
 * negative log-likelihood (mean), accuracy, expected calibration error over equal-width confidence
 * bins ({@code ECE = sum_b (n_b / n) |acc_b - conf_b|}) and the bins themselves (reliability diagram).
 */
final class Calibration {
    private Calibration() {
    }

    /** Per confidence bin: mean confidence, accuracy and count (NaN for empty bins). */
    record Bins(double[] confidence, double[] accuracy, int[] count) {
    }

    static double nll(INDArray p, INDArray labels) {
        double s = 0;
        for (int i = 0; i < p.size(0); i++) {
            s -= Math.log(Math.max(p.getDouble(i, label(labels, i)), 1e-300));
        }
        return s / p.size(0);
    }

    static double accuracy(INDArray p, INDArray labels) {
        int right = 0;
        for (int i = 0; i < p.size(0); i++) {
            right += argmax(p, i) == label(labels, i) ? 1 : 0;
        }
        return (double) right / p.size(0);
    }

    /** Mean of the largest class probability. */
    static double meanConfidence(INDArray p) {
        return p.max(1).meanNumber().doubleValue();
    }

    static Bins bins(INDArray p, INDArray labels, int count) {
        double[] conf = new double[count];
        double[] acc = new double[count];
        int[] n = new int[count];
        for (int i = 0; i < p.size(0); i++) {
            int k = argmax(p, i);
            double c = p.getDouble(i, k);
            int b = Math.min(count - 1, (int) (c * count));
            conf[b] += c;
            acc[b] += k == label(labels, i) ? 1 : 0;
            n[b]++;
        }
        for (int b = 0; b < count; b++) {
            conf[b] = n[b] == 0 ? Double.NaN : conf[b] / n[b];
            acc[b] = n[b] == 0 ? Double.NaN : acc[b] / n[b];
        }
        return new Bins(conf, acc, n);
    }

    static double ece(INDArray p, INDArray labels, int count) {
        Bins b = bins(p, labels, count);
        double e = 0;
        for (int i = 0; i < count; i++) {
            if (b.count()[i] > 0) {
                e += (double) b.count()[i] / p.size(0) * Math.abs(b.accuracy()[i] - b.confidence()[i]);
            }
        }
        return e;
    }

    private static int label(INDArray labels, int i) {
        return (int) Math.round(labels.getDouble(i));
    }

    private static int argmax(INDArray p, int i) {
        int best = 0;
        for (int k = 1; k < p.size(1); k++) {
            if (p.getDouble(i, k) > p.getDouble(i, best)) {
                best = k;
            }
        }
        return best;
    }
}
