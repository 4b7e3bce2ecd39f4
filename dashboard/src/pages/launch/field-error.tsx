/** The inline message under a wizard field (nothing when the field is fine). */
const STYLE = { color: '#a12622', margin: '0 0 0.5em', fontWeight: 600 };

export function FieldError({ id, message }: { id: string; message?: string }) {
  return message ? (
    <p id={id} className="field-error" role="alert" style={STYLE}>
      {message}
    </p>
  ) : null;
}
