package dev.curvlab.nn.train;

import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stochastic gradient descent with optional heavy-ball momentum, Nesterov momentum and weight
 * decay (PyTorch's {@code torch.optim.SGD} convention, without dampening). With learning rate
 * {@code eta}, momentum {@code mu}, weight decay {@code lambda} and velocity {@code v_0 = 0}, step
 * t computes
 * <pre>
 *   g_t     = grad_t + lambda * theta_{t-1}
 *   v_t     = mu * v_{t-1} + g_t
 *   d_t     = v_t                    (heavy ball)
 *   d_t     = g_t + mu * v_t         (Nesterov)
 *   theta_t = theta_{t-1} - eta * d_t
 * </pre>
 * With {@code mu = 0} this is plain gradient descent {@code theta <- theta - eta * g}. Updates
 * {@code theta} in place (see {@link Optimizer}); each step is at most five vector operations and
 * allocates nothing after the first.
 */
public final class Sgd implements Optimizer {
    private final double lr;
    private final double momentum;
    private final boolean nesterov;
    private final double weightDecay;
    private INDArray velocity;
    private INDArray direction;
    private long steps;

    /** Plain gradient descent with learning rate {@code lr}. */
    public Sgd(double lr) {
        this(lr, 0.0, false, 0.0);
    }

    /** Heavy-ball momentum {@code momentum} in {@code [0, 1)}. */
    public Sgd(double lr, double momentum) {
        this(lr, momentum, false, 0.0);
    }

    /**
     * @param lr learning rate {@code eta > 0}
     * @param momentum {@code mu} in {@code [0, 1)}
     * @param nesterov use Nesterov momentum (needs {@code mu > 0})
     * @param weightDecay L2 coefficient {@code lambda >= 0}, added to the gradient as {@code lambda * theta}
     */
    public Sgd(double lr, double momentum, boolean nesterov, double weightDecay) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + lr);
        }
        this.lr = lr;
        this.momentum = Optimizer.checkRange("momentum", momentum, 0, 1, false);
        this.weightDecay = Optimizer.checkRange("weight decay", weightDecay, 0, Double.MAX_VALUE, true);
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        }
        this.nesterov = nesterov;
    }

    @Override
    public INDArray step(INDArray theta, INDArray grad) {
        Optimizer.checkShapes("Sgd.step", theta, grad, direction);
        if (direction == null) {
            direction = Nd4j.zeros(theta.dataType(), theta.shape());
            velocity = momentum > 0 ? Nd4j.zeros(theta.dataType(), theta.shape()) : null;
        }
        INDArray d = direction.assign(grad);
        if (weightDecay > 0) {
            axpy(weightDecay, theta, d);
        }
        if (momentum > 0) {
            velocity.muli(momentum).addi(d);
            if (nesterov) {
                axpy(momentum, velocity, d);
            } else {
                d = velocity;
            }
        }
        axpy(-lr, d, theta);
        steps++;
        return theta;
    }

    /** {@code y <- y + a x}, in place. */
    static void axpy(double a, INDArray x, INDArray y) {
        Nd4j.getBlasWrapper().level1().axpy(x.length(), a, x, y);
    }

    @Override
    public void reset() {
        velocity = null;
        direction = null;
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

    public double momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Sgd(lr=%g, momentum=%g%s, weightDecay=%g)", lr, momentum,
                nesterov ? ", nesterov" : "", weightDecay);
    }
}
