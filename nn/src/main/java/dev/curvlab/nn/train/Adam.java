package dev.curvlab.nn.train;

import dev.curvlab.core.kernels.RawAccess;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Adam (Kingma &amp; Ba 2015, Algorithm 1) with optional L2 weight decay added to the gradient (as
 * {@code torch.optim.Adam(weight_decay=...)}; not the decoupled AdamW form). With learning rate
 * {@code eta}, decay rates {@code beta1, beta2}, {@code eps}, weight decay {@code lambda} and
 * {@code m_0 = v_0 = 0}, step t (1-based) computes
 * <pre>
 *   g_t     = grad_t + lambda * theta_{t-1}
 *   m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t
 *   v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t^2
 *   mhat_t  = m_t / (1 - beta1^t)
 *   vhat_t  = v_t / (1 - beta2^t)
 *   theta_t = theta_{t-1} - eta * mhat_t / (sqrt(vhat_t) + eps)
 * </pre>
 * (all elementwise). On the first step {@code mhat = g} and {@code vhat = g^2}, so every parameter
 * moves by about {@code eta} against the sign of its gradient. Updates {@code theta} in place (see
 * {@link Optimizer}); each step is about ten vector operations and allocates nothing after the first.
 */
public final class Adam implements Optimizer {
    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private INDArray m;
    private INDArray v;
    private INDArray scratch;
    /** theta, g, m, v side by side for {@link #javaStep}. */
    private double[] buffers;
    private long steps;

    /** Adam with the usual defaults {@code beta1 = 0.9, beta2 = 0.999, eps = 1e-8}, no weight decay. */
    public Adam(double lr) {
        this(lr, 0.9, 0.999, 1e-8, 0.0);
    }

    /**
     * @param lr learning rate {@code eta > 0}
     * @param beta1 first-moment decay in {@code [0, 1)}
     * @param beta2 second-moment decay in {@code [0, 1)}
     * @param eps denominator guard {@code > 0}
     * @param weightDecay L2 coefficient {@code lambda >= 0}, added to the gradient as {@code lambda * theta}
     */
    public Adam(double lr, double beta1, double beta2, double eps, double weightDecay) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + lr);
        }
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("eps must be positive and finite, got " + eps);
        }
        this.lr = lr;
        this.beta1 = Optimizer.checkRange("beta1", beta1, 0, 1, false);
        this.beta2 = Optimizer.checkRange("beta2", beta2, 0, 1, false);
        this.eps = eps;
        this.weightDecay = Optimizer.checkRange("weight decay", weightDecay, 0, Double.MAX_VALUE, true);
    }

    @Override
    public INDArray step(INDArray theta, INDArray grad) {
        Optimizer.checkShapes("Adam.step", theta, grad, m);
        if (m == null) {
            m = Nd4j.zeros(theta.dataType(), theta.shape());
            v = Nd4j.zeros(theta.dataType(), theta.shape());
            scratch = Nd4j.zeros(theta.dataType(), theta.shape());
        }
        steps++;
        if (RawAccess.isWholeDouble(theta) && RawAccess.isWholeDouble(grad)) {
            javaStep(theta, grad);
            return theta;
        }
        INDArray g = scratch.assign(grad);
        if (weightDecay > 0) {
            Sgd.axpy(weightDecay, theta, g);
        }
        m.muli(beta1);
        Sgd.axpy(1 - beta1, g, m);
        v.muli(beta2);
        Sgd.axpy(1 - beta2, g.muli(g), v);
        double bc1 = 1 - Math.pow(beta1, steps);
        double bc2 = 1 - Math.pow(beta2, steps);
        // scratch <- sqrt(v / bc2) + eps, then m / scratch; theta -= (eta / bc1) * scratch
        INDArray denom = Transforms.sqrt(scratch.assign(v).divi(bc2), false).addi(eps);
        Sgd.axpy(-lr / bc1, denom.rdivi(m), theta);
        return theta;
    }

    /**
     * The same update as one Java loop over the elements (whole float64 arrays): on small models the
     * dozen ND4J calls of the array form cost more than the arithmetic (~1 ms per step on Iris). The
     * four vectors are copied to one Java array (one memcpy each), updated there and copied back: plain
     * array loops, fast from the first steps of a cold process.
     */
    private void javaStep(INDArray theta, INDArray grad) {
        int n = Math.toIntExact(theta.length());
        if (buffers == null || buffers.length != 4 * n) {
            buffers = new double[4 * n];
        }
        double[] b = buffers;
        RawAccess.read(theta, 0, b, 0, n);
        RawAccess.read(grad, 0, b, n, n);
        RawAccess.read(m, 0, b, 2 * n, n);
        RawAccess.read(v, 0, b, 3 * n, n);
        double bc1 = 1 - Math.pow(beta1, steps);
        double bc2 = 1 - Math.pow(beta2, steps);
        double step = -lr / bc1;
        for (int i = 0; i < n; i++) {
            double g = weightDecay > 0 ? b[n + i] + weightDecay * b[i] : b[n + i];
            double mi = beta1 * b[2 * n + i] + (1 - beta1) * g;
            double vi = beta2 * b[3 * n + i] + (1 - beta2) * (g * g);
            b[2 * n + i] = mi;
            b[3 * n + i] = vi;
            b[i] += step * (mi / (Math.sqrt(vi / bc2) + eps));
        }
        RawAccess.write(theta, 0, b, 0, n);
        RawAccess.write(m, 0, b, 2 * n, n);
        RawAccess.write(v, 0, b, 3 * n, n);
    }

    @Override
    public void reset() {
        m = null;
        v = null;
        scratch = null;
        steps = 0;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public double learningRate() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Adam(lr=%g, beta1=%g, beta2=%g, eps=%g, weightDecay=%g)", lr, beta1, beta2,
                eps, weightDecay);
    }
}
