import { Link } from 'react-aria-components'
import { PageTitle } from '../components/ui'

export function NotFound() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>There is no page at this address. <Link href="/">Go to the account home</Link>.</p>
    </>
  )
}
