// The entrepreneur's feedback, as it comes back from the office with the
// bus's view of a visit (each follow-up's "feedback": {rating, comment,
// contact_preference, created_at}): shown on the visit's detail beside its
// follow-up, and as a mark in the list.

import { t, locale } from './i18n.js';

const given = new WeakMap(); // follow-up row → its feedback

/** Shows a follow-up row's feedback (null: none yet). */
export function show(li, fb) {
  const box = li.querySelector('.fu-feedback');
  if (!fb || typeof fb.rating !== 'number') {
    box.hidden = true;
    given.delete(li);
    return;
  }
  given.set(li, fb);
  box.hidden = false;
  render(li);
}

/** Rewords a follow-up row's feedback in the language in use. */
export function render(li) {
  const fb = given.get(li);
  if (!fb) return;
  li.querySelector('.fu-feedback-title').textContent = t('feedback.title', { rating: fb.rating });
  const comment = li.querySelector('.fu-feedback-comment');
  comment.textContent = fb.comment || '';
  comment.hidden = !fb.comment;
  const when = fb.created_at ? new Date(fb.created_at) : null;
  const parts = [];
  if (fb.contact_preference) parts.push(t(`feedback.pref.${fb.contact_preference}`));
  if (when && !Number.isNaN(when.getTime())) {
    parts.push(new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(when));
  }
  li.querySelector('.fu-feedback-meta').textContent = parts.join(' · ');
}

/** The lowest mark the entrepreneur gave on any follow-up of a stored visit, or null: the list's mark. */
export function rating(rec) {
  let low = null;
  for (const st of Object.values(rec.office || {})) {
    const r = st && st.feedback && st.feedback.rating;
    if (typeof r === 'number' && (low === null || r < low)) low = r;
  }
  return low;
}
