// Reads a QR code with the camera, where the browser has BarcodeDetector
// (Chrome on Android). Loaded only when the crew press "scan a card".

import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/**
 * Opens the camera in a dialog and resolves with the text of the first QR
 * code it sees, or '' when the crew close the dialog or the camera cannot
 * be used (the dialog then says why).
 */
export async function scanCode() {
  const dialog = $('scan-dialog');
  const video = $('scan-video');
  const msg = $('scan-message');
  msg.textContent = t('scan.aim');
  dialog.showModal();
  let stream = null;
  let stop = false;
  const closed = new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  closed.then(() => (stop = true));
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    video.srcObject = stream;
    await video.play();
    const detector = new BarcodeDetector({ formats: ['qr_code'] });
    while (!stop) {
      const found = await detector.detect(video).catch(() => []);
      if (found.length) {
        dialog.close();
        return found[0].rawValue;
      }
      await Promise.race([new Promise((r) => requestAnimationFrame(r)), closed]);
    }
    return '';
  } catch {
    msg.textContent = t('scan.nocamera');
    await closed;
    return '';
  } finally {
    if (stream) for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  }
}
