package dev.curvlab.nn.dl4j;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;

/**
 * Imports a trained DL4J {@link MultiLayerNetwork} of {@link DenseLayer}s, optionally ending in an
 * {@link OutputLayer}, as a curvlab {@link Sequential} with the same parameters. Networks with
 * convolution or subsampling layers go to {@link Dl4jConvImport}.
 *
 * <p><b>Activations.</b> identity, tanh, sigmoid, relu (plain {@code max(z, 0)}), leaky relu with
 * alpha 0.01, elu with alpha 1, softplus and swish (= silu) map to their curvlab namesakes. DL4J's
 * GELU is refused: in 1.0.0-M2.1 the default {@code ActivationGELU()} computes
 * {@code z sigmoid(1.702 z)} and {@code ActivationGELU(true)} computes
 * {@code z (1 + tanh(sqrt(2/pi) (z + (0.044715 z)^3))) / 2}; neither is the exact
 * {@code z Phi(z)} of curvlab's GELU (they differ by up to 1e-2). Anything else is refused with a
 * message naming the layer index and the class.
 *
 * <p><b>Losses and the logits convention.</b> curvlab's {@code ce} and {@code bce} take
 * <em>logits</em>, so for those losses the imported model's last layer has IDENTITY activation
 * and {@code model.predict} returns the pre-activation {@code z} of DL4J's output layer:
 * <ul>
 * <li>{@code LossMSE} + identity: {@link Losses#MSE}; outputs equal DL4J's.</li>
 * <li>{@code LossMCXENT} or {@code LossNegativeLogLikelihood} + softmax: {@link Losses#CROSS_ENTROPY};
 *     DL4J's output is {@code softmax(z)}. curvlab takes class indices where DL4J takes one-hot rows.</li>
 * <li>{@code LossBinaryXENT} + sigmoid: {@link Losses#BCE}; DL4J's output is {@code sigmoid(z)}.</li>
 * <li>anything else (including the above with per-output weights): loss {@code null}, and the
 *     output activation is kept when curvlab has it (softmax is not elementwise: refused).</li>
 * </ul>
 * For n samples and k outputs, DL4J's {@code score} equals curvlab's {@link
 * dev.curvlab.nn.loss.Reduction#MEAN} loss for mse (DL4J divides each sample's sum by k) and ce,
 * and k times it for bce (DL4J sums over outputs, curvlab averages); DL4J's flat gradient after
 * {@code computeGradientAndScore()} is n times the gradient of its score (its updater divides by
 * the minibatch size later). DL4J's leaky relu backward pass uses the slope as float32
 * ({@code 0.009999999776}), so its gradients for leaky relu nets differ from the exact ones at about
 * 1e-9 relative. DL4J clips probabilities (softmax at 1e-10, bce at 1e-5), so values
 * differ where outputs saturate that far. L1/L2/weight decay terms are not imported, and dropout or
 * weight noise (training-time only) are ignored: the model is DL4J's inference function.
 *
 * <p><b>Parameter layout.</b> DL4J's flat {@code params()} holds, per layer, {@code W [nIn, nOut]}
 * in column-major order ({@code W[i, j]} at {@code i + j nIn}) and then {@code b [nOut]}; curvlab
 * holds {@code W} row-major ({@code W[i, j]} at {@code i out + j}). {@link #toDl4jOrder} and
 * {@link #fromDl4jOrder} convert any vector (parameters, gradients) between the two. A DL4J layer
 * without a bias imports with {@code b = 0}.
 */
public final class Dl4jImport {
    private Dl4jImport() {
    }

    /** One dense layer's sizes, and whether DL4J stores a bias for it. */
    private record Shape(int in, int out, boolean bias) {
    }

    /** Reads a {@code ModelSerializer} zip of a {@link MultiLayerNetwork} and imports it. */
    public static ImportedModel fromFile(Path zip) throws IOException {
        if (!Files.isRegularFile(zip)) {
            throw new NoSuchFileException(zip.toString(), null, "no DL4J model file here");
        }
        MultiLayerNetwork net;
        try {
            net = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);
        } catch (RuntimeException e) {
            throw new IOException("could not read a DL4J MultiLayerNetwork from " + zip + ": " + e.getMessage(), e);
        }
        return fromNetwork(net);
    }

    /** Imports an initialised network (see the class comment for what is supported). */
    public static ImportedModel fromNetwork(MultiLayerNetwork net) {
        if (Dl4jConvImport.isConvolutional(net)) {
            return Dl4jConvImport.fromNetwork(net);
        }
        List<Shape> shapes = shapes(net);
        int last = shapes.size() - 1;
        Sequential.Builder b = Sequential.builder(shapes.get(0).in());
        Loss loss = null;
        for (int l = 0; l <= last; l++) {
            BaseLayer conf = (BaseLayer) layerConf(net, l);
            Activation a;
            if (conf instanceof OutputLayer out) {
                loss = lossOf(out);
                a = loss != null ? Activation.IDENTITY : activation(l, conf.getActivationFn());
            } else {
                a = activation(l, conf.getActivationFn());
            }
            b.dense(shapes.get(l).out(), a);
        }
        Sequential model = b.build();
        INDArray theta = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        long at = 0;
        for (int l = 0; l <= last; l++) {
            Shape s = shapes.get(l);
            long nw = (long) s.in() * s.out();
            // getParam("W") is the [nIn, nOut] matrix (an 'f'-ordered view); dup('c') lays it out row-major.
            INDArray w = net.getLayer(l).getParam("W").castTo(DataType.DOUBLE).dup('c').reshape(nw);
            theta.get(NDArrayIndex.interval(at, at + nw)).assign(w);
            at += nw;
            if (s.bias()) {
                INDArray bias = net.getLayer(l).getParam("b").castTo(DataType.DOUBLE).reshape(s.out());
                theta.get(NDArrayIndex.interval(at, at + s.out())).assign(bias);
            }
            at += s.out();
        }
        return new ImportedModel(model, theta, loss);
    }

    /**
     * A curvlab-layout vector {@code [N]} (parameters, a gradient) rearranged into DL4J's flat
     * layout {@code [N]}, for a network whose layers all have biases (DL4J's default). Per layer:
     * {@code v_dl4j[i + j in] = v[i out + j]} over the W block, biases copied.
     */
    public static INDArray toDl4jOrder(Sequential model, INDArray curvlabVector) {
        List<Shape> shapes = new ArrayList<>();
        model.layers().forEach(d -> shapes.add(new Shape(d.in(), d.out(), true)));
        return toDl4j(shapes, curvlabVector);
    }

    /**
     * A curvlab-layout vector for the import of {@code net} rearranged into {@code net}'s flat
     * layout (length {@code net.numParams()}; entries for biases DL4J does not store are dropped).
     */
    public static INDArray toDl4jOrder(MultiLayerNetwork net, INDArray curvlabVector) {
        return toDl4j(shapes(net), curvlabVector);
    }

    /**
     * A vector in {@code net}'s flat layout (e.g. {@code net.params()} or
     * {@code net.gradient().gradient()}) rearranged into the curvlab layout of its import:
     * {@code v[i out + j] = v_dl4j[i + j in]} over each W block; biases DL4J does not store are 0.
     */
    public static INDArray fromDl4jOrder(MultiLayerNetwork net, INDArray dl4jVector) {
        List<Shape> shapes = shapes(net);
        INDArray v = flat(dl4jVector, count(shapes, true), "DL4J-layout vector");
        INDArray out = Nd4j.zeros(DataType.DOUBLE, count(shapes, false));
        long src = 0;
        long dst = 0;
        for (Shape s : shapes) {
            long nw = (long) s.in() * s.out();
            INDArray w = v.get(NDArrayIndex.interval(src, src + nw)).reshape('f', s.in(), s.out());
            out.get(NDArrayIndex.interval(dst, dst + nw)).assign(w.dup('c').reshape(nw));
            src += nw;
            dst += nw;
            if (s.bias()) {
                out.get(NDArrayIndex.interval(dst, dst + s.out())).assign(v.get(NDArrayIndex.interval(src, src + s.out())));
                src += s.out();
            }
            dst += s.out();
        }
        return out;
    }

    /**
     * The curvlab activation equal to a DL4J one, or an {@link IllegalArgumentException} naming
     * {@code layer} and the activation's class.
     */
    public static Activation activation(int layer, IActivation fn) {
        Class<?> c = fn == null ? null : fn.getClass();
        if (c == ActivationIdentity.class) {
            return Activation.IDENTITY;
        } else if (c == ActivationTanH.class) {
            return Activation.TANH;
        } else if (c == ActivationSigmoid.class) {
            return Activation.SIGMOID;
        } else if (c == ActivationSoftPlus.class) {
            return Activation.SOFTPLUS;
        } else if (c == ActivationSwish.class) {
            return Activation.SILU;
        } else if (c == ActivationReLU.class) {
            ActivationReLU r = (ActivationReLU) fn;
            if (r.getMax() != null || nonZero(r.getThreshold()) || nonZero(r.getNegativeSlope())) {
                throw unsupported(layer, fn, "only the plain max(z, 0) is supported, this one has max=" + r.getMax()
                        + ", threshold=" + r.getThreshold() + ", negativeSlope=" + r.getNegativeSlope());
            }
            return Activation.RELU;
        } else if (c == ActivationLReLU.class) {
            double alpha = ((ActivationLReLU) fn).getAlpha();
            if (alpha != 0.01) {
                throw unsupported(layer, fn, "its alpha is " + alpha + " but curvlab's leaky_relu slope is fixed at 0.01");
            }
            return Activation.LEAKY_RELU;
        } else if (c == ActivationELU.class) {
            double alpha = ((ActivationELU) fn).getAlpha();
            if (alpha != 1.0) {
                throw unsupported(layer, fn, "its alpha is " + alpha + " but curvlab's elu has alpha fixed at 1");
            }
            return Activation.ELU;
        } else if (c == ActivationGELU.class) {
            throw unsupported(layer, fn, "DL4J's GELU is an approximation (z sigmoid(1.702 z), or a tanh form when precise),"
                    + " not the exact z Phi(z) curvlab computes");
        } else if (c == ActivationSoftmax.class) {
            throw unsupported(layer, fn, "softmax is not elementwise; it is imported only on an OutputLayer with"
                    + " LossMCXENT or LossNegativeLogLikelihood (as curvlab's ce on logits)");
        }
        throw unsupported(layer, fn, "curvlab has identity, tanh, sigmoid, relu, leaky relu (0.01), elu (1), softplus, swish");
    }

    private static IllegalArgumentException unsupported(int layer, IActivation fn, String why) {
        String name = fn == null ? "null" : fn.getClass().getSimpleName() + " (" + fn + ")";
        return new IllegalArgumentException("DL4J layer " + layer + ": activation " + name + " has no curvlab equivalent: " + why);
    }

    private static boolean nonZero(Double v) {
        return v != null && v != 0.0;
    }

    /** The curvlab loss for an output layer, or null when its loss/activation pair has none. */
    static Loss lossOf(OutputLayer out) {
        ILossFunction lf = out.getLossFn();
        Class<?> a = out.getActivationFn() == null ? null : out.getActivationFn().getClass();
        if (lf == null) {
            return null;
        }
        Class<?> c = lf.getClass();
        if (c == LossMSE.class && ((LossMSE) lf).getWeights() == null && a == ActivationIdentity.class) {
            return Losses.MSE;
        }
        if ((c == LossMCXENT.class || c == LossNegativeLogLikelihood.class) && ((LossMCXENT) lf).getWeights() == null
                && a == ActivationSoftmax.class) {
            return Losses.CROSS_ENTROPY;
        }
        if (c == LossBinaryXENT.class && ((LossBinaryXENT) lf).getWeights() == null && a == ActivationSigmoid.class) {
            return Losses.BCE;
        }
        return null;
    }

    private static Layer layerConf(MultiLayerNetwork net, int l) {
        return net.getLayerWiseConfigurations().getConf(l).getLayer();
    }

    /** Validates the network's structure and returns its layer sizes. */
    private static List<Shape> shapes(MultiLayerNetwork net) {
        if (net == null) {
            throw new IllegalArgumentException("no network given");
        }
        if (net.getLayers() == null || net.params() == null) {
            throw new IllegalArgumentException("the DL4J network is not initialised: call net.init() before importing");
        }
        int count = net.getLayerWiseConfigurations().getConfs().size();
        if (count == 0) {
            throw new IllegalArgumentException("the DL4J network has no layers");
        }
        List<Shape> shapes = new ArrayList<>();
        for (int l = 0; l < count; l++) {
            Layer conf = layerConf(net, l);
            Class<?> c = conf == null ? null : conf.getClass();
            if (c != DenseLayer.class && c != OutputLayer.class) {
                throw new IllegalArgumentException("DL4J layer " + l + " is a " + (c == null ? "null" : c.getSimpleName() + " (" + c.getName() + ")")
                        + "; curvlab imports only DenseLayer layers, optionally followed by one final OutputLayer");
            }
            if (c == OutputLayer.class && l != count - 1) {
                throw new IllegalArgumentException("DL4J layer " + l + " is an OutputLayer but not the last layer (of " + count + ")");
            }
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(l);
            if (pre != null) {
                throw new IllegalArgumentException("DL4J layer " + l + " has an input preprocessor " + pre.getClass().getSimpleName()
                        + "; curvlab imports plain dense stacks only");
            }
            if (conf instanceof DenseLayer d && d.hasLayerNorm()) {
                throw new IllegalArgumentException("DL4J layer " + l + " (DenseLayer) uses layer normalisation, which curvlab's Dense has not");
            }
            FeedForwardLayer ff = (FeedForwardLayer) conf;
            boolean bias = conf instanceof DenseLayer d ? d.hasBias() : ((OutputLayer) conf).hasBias();
            Shape s = new Shape(Math.toIntExact(ff.getNIn()), Math.toIntExact(ff.getNOut()), bias);
            if (l > 0 && s.in() != shapes.get(l - 1).out()) {
                throw new IllegalArgumentException("DL4J layer " + l + " takes nIn=" + s.in() + " but layer " + (l - 1) + " gives nOut="
                        + shapes.get(l - 1).out());
            }
            shapes.add(s);
        }
        return shapes;
    }

    private static long count(List<Shape> shapes, boolean dl4j) {
        long n = 0;
        for (Shape s : shapes) {
            n += (long) s.in() * s.out() + (s.bias() || !dl4j ? s.out() : 0);
        }
        return n;
    }

    private static INDArray toDl4j(List<Shape> shapes, INDArray curvlabVector) {
        INDArray v = flat(curvlabVector, count(shapes, false), "curvlab-layout vector");
        INDArray out = Nd4j.zeros(DataType.DOUBLE, count(shapes, true));
        long src = 0;
        long dst = 0;
        for (Shape s : shapes) {
            long nw = (long) s.in() * s.out();
            INDArray w = v.get(NDArrayIndex.interval(src, src + nw)).reshape('c', s.in(), s.out());
            out.get(NDArrayIndex.interval(dst, dst + nw)).assign(w.dup('f').reshape('f', new long[] {nw}));
            src += nw;
            dst += nw;
            if (s.bias()) {
                out.get(NDArrayIndex.interval(dst, dst + s.out())).assign(v.get(NDArrayIndex.interval(src, src + s.out())));
                dst += s.out();
            }
            src += s.out();
        }
        return out;
    }

    private static INDArray flat(INDArray v, long expected, String what) {
        if (v == null || v.length() != expected || (v.rank() == 2 && v.size(0) != 1) || v.rank() > 2) {
            throw new IllegalArgumentException(what + " of shape " + (v == null ? "null" : Arrays.toString(v.shape()))
                    + " does not fit: expected [" + expected + "] (or [1, " + expected + "])");
        }
        return v.castTo(DataType.DOUBLE).dup('c').reshape(expected);
    }
}
