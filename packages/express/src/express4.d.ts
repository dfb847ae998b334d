// Express 4 is installed under an alias so both majors are tested; it shares Express 5's public shape here.
declare module 'express4' {
  import express from 'express'
  export default express
}
