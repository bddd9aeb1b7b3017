// A chart of the week's sales, the project's own React component.
export default function Chart({ data }) {
  return data.map((d) => d.total);
}
