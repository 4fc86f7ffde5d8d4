import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components'
import { PageTitle } from '../components/ui'
import { ApiTab } from './settings-api'
import { GeneralTab } from './settings-general'
import { WebhooksTab } from './settings-webhooks'

export const API_TAB_PATH = '/settings/integrations/api'
export const WEBHOOKS_TAB_PATH = '/settings/integrations/webhooks'

/** "The Settings & Integrations screen appears. Click the API tab." (second seed) */
export function Settings({ path }: { path: string }) {
  const selected = path === API_TAB_PATH ? 'api' : path === WEBHOOKS_TAB_PATH ? 'webhooks' : 'general'
  return (
    <>
      <PageTitle>Settings &amp; Integrations</PageTitle>
      <Tabs selectedKey={selected} className="tabs">
        <TabList aria-label="Settings & Integrations" className="tablist">
          <Tab id="general" href="/settings/integrations" className="tab">General</Tab>
          <Tab id="api" href={API_TAB_PATH} className="tab">API</Tab>
          <Tab id="webhooks" href={WEBHOOKS_TAB_PATH} className="tab">Webhooks</Tab>
        </TabList>
        <TabPanel id="general" className="tabpanel"><GeneralTab /></TabPanel>
        <TabPanel id="api" className="tabpanel"><ApiTab /></TabPanel>
        <TabPanel id="webhooks" className="tabpanel"><WebhooksTab /></TabPanel>
      </Tabs>
    </>
  )
}
