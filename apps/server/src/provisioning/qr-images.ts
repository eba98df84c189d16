/** The QR text as images: a PNG (bytes) and an SVG document. */
export interface QrImages {
  png: Buffer;
  svg: string;
}

/**
 * Renders the QR text. Error correction M keeps a ~90-character activation text at a version
 * phone cameras read at arm's length; the 4-module quiet zone is the standard's minimum.
 */
export async function renderQr(text: string, opts: { width?: number } = {}): Promise<QrImages> {
  // Loaded on the first code rendered: an idle server does not hold the QR encoder.
  const QRCode = await import('qrcode');
  const common = { errorCorrectionLevel: 'M' as const, margin: 4 };
  const [png, svg] = await Promise.all([
    QRCode.toBuffer(text, { ...common, type: 'png', width: opts.width ?? 360 }),
    QRCode.toString(text, { ...common, type: 'svg' }),
  ]);
  return { png, svg };
}
